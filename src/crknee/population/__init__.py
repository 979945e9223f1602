"""Populations of discrete cosmic-ray sources (SNRs, microquasars) in the background's halo.

How often does one source own the knee?  Many realisations of a Galaxy of sources, each
summed at the Sun with the halo Green's functions of :mod:`crknee.sources.greens`:

- :mod:`~crknee.population.distributions`, :mod:`~crknee.population.spec`: the
  ``[population]`` TOML section (defaults ``crknee/configs/population.toml``);
- :mod:`~crknee.population.geometry`: eq. 3 positions, sampling and quadrature;
- :mod:`~crknee.population.kernel`: the compiled source sum (flux, dipole, brightest);
- :mod:`~crknee.population.continuum`: exact ensemble means and the skip criterion;
- :mod:`~crknee.population.realisation`: draw and evaluate one realisation;
- :mod:`~crknee.population.ensemble`: seeds, dask, checkpoints, xarray output;
- :mod:`~crknee.population.stats`: bands and the one-source probabilities.

Main objects re-exported here (imported lazily on first access).
"""

from crknee._lazy import attach, exports_of

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        **exports_of("crknee.population.distributions", "Distribution"),
        **exports_of("crknee.population.ensemble", "run", "to_dataset"),
        **exports_of("crknee.population.realisation", "realise"),
        **exports_of("crknee.population.spec", "PopulationSpec", "SourceClass", "load_spec", "spec_from_dict"),
        **exports_of("crknee.population.stats", "Dominance", "bands", "dominance", "summary_table"),
    },
)

"""crknee: the origin of the cosmic-ray knee.

A toolkit that reproduces and extends Nie, Yue, Guo & Liu, "A Multi-messenger Search
for a Nearby Microquasar Contributor to the Cosmic Ray Knee": Galactic propagation of
the supernova-remnant background (eq. 1-4), point sources (eq. 5-6), hadronic gamma
rays of the LHAASO microquasars, the dipole anisotropy, an MCMC search for the knee
source and the cross-match with X-ray binary catalogues.

The main classes and functions are re-exported here and imported on first use
(``crknee.PointSource``, ``crknee.solve``, ...), so ``import crknee`` stays cheap:

>>> import astropy.units as u, crknee                              # doctest: +SKIP
>>> bg = crknee.solve(crknee.PropagationModel())                    # doctest: +SKIP
>>> src = bg.point_source("knee", l_deg=40, b_deg=1, d_kpc=2.64 * u.kpc, age_Myr=0.1,
...                       beta=2.2, Rcut_GV=5 * u.PV, energy_erg=1e50)  # doctest: +SKIP
"""

from crknee._lazy import attach, exports_of

_EXPORTS = {
    **exports_of("crknee.errors", "CrkneeError", "InputError", "ConfigError", "DataError"),
    **exports_of("crknee.units", "value_in"),
    **exports_of("crknee.transport", "Diffusion"),
    **exports_of("crknee.modulation", "PHI_PAPER"),
    **exports_of("crknee.propagation", "PropagationModel", "Solution", "solve"),
    **exports_of(
        "crknee.sources", "PointSource", "KneeModel", "Composition", "total_flux", "total_dipole", "named_source"
    ),
    **exports_of("crknee.anisotropy", "FieldAlignment", "predict_dipole", "equatorial"),
    **exports_of("crknee.gamma", "SourceParams", "HadronicSource", "fit_sed"),
    **exports_of("crknee.catalogs", "HPDRegion", "find_candidates", "load_binaries"),
    **exports_of("crknee.population", "PopulationSpec", "load_spec"),
}
_lazy_getattr, __dir__, _NAMES = attach(__name__, _EXPORTS)
__all__ = ["__version__", *_NAMES]


def __getattr__(name: str):
    """The lazy re-exports, and ``__version__`` (read from the installed metadata on first use)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("crknee")
        except PackageNotFoundError:  # running from a source tree without installation
            value = "0.0.0+unknown"
        globals()["__version__"] = value
        return value
    return _lazy_getattr(name)

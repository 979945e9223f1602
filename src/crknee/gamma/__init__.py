"""Hadronic gamma rays of the LHAASO microquasars and their protons at Earth (paper Sec. 3).

* :mod:`~crknee.gamma.kafexhiu`, :mod:`~crknee.gamma.kelner`: pp -> gamma cross sections
  (Kafexhiu et al. 2014 to 1 PeV, Kelner et al. 2006 above, matched);
* :mod:`~crknee.gamma.emission`: vectorised emission of a proton population (``gamma_sed``);
* :mod:`~crknee.gamma.params`: per-source parameters (``SourceParams``, ``DEFAULTS``);
* :mod:`~crknee.gamma.source_model`: protons inside the emitting region (``HadronicSource``);
* :mod:`~crknee.gamma.fit`: fit of (L0, beta[, R_cut]) to SED points (``fit_sed``);
* :mod:`~crknee.gamma.earth`: the same protons at Earth (``protons_at_earth``);
* :mod:`~crknee.gamma.analysis`: Sec. 3 end to end (``analyse_all``, ``knee_ratios``);
* :mod:`~crknee.gamma.target`: n_H at the source from the bundled gas model;
* :mod:`~crknee.gamma.maps`: the knee ratio over (n_H a^2, chi, age) (``ratio_map``).
"""

from crknee._lazy import attach, exports_of

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        **exports_of(
            "crknee.gamma.analysis",
            "analyse",
            "analyse_all",
            "datasets_for",
            "knee_ratio_per_gamma_flux",
            "knee_ratios",
        ),
        **exports_of("crknee.gamma.earth", "protons_at_earth", "ratio_to_data"),
        **exports_of("crknee.gamma.emission", "PPModel", "gamma_sed"),
        **exports_of("crknee.gamma.fit", "FitResult", "SEDData", "fit_sed", "sed_band"),
        **exports_of("crknee.gamma.maps", "PLAUSIBLE", "RatioMap", "ratio_map"),
        **exports_of("crknee.gamma.params", "DEFAULTS", "PAPER_SOURCES", "SourceParams"),
        **exports_of("crknee.gamma.source_model", "HadronicSource"),
    },
)

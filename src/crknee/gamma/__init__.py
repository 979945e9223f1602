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
from crknee.gamma.analysis import analyse, analyse_all, datasets_for, knee_ratio_per_gamma_flux, knee_ratios
from crknee.gamma.earth import protons_at_earth, ratio_to_data
from crknee.gamma.emission import PPModel, gamma_sed
from crknee.gamma.fit import FitResult, SEDData, fit_sed, sed_band
from crknee.gamma.maps import PLAUSIBLE, RatioMap, ratio_map
from crknee.gamma.params import DEFAULTS, PAPER_SOURCES, SourceParams
from crknee.gamma.source_model import HadronicSource

__all__ = [
    "DEFAULTS", "FitResult", "HadronicSource", "PAPER_SOURCES", "PLAUSIBLE", "PPModel", "RatioMap", "SEDData",
    "SourceParams", "ratio_map",
    "analyse", "analyse_all", "datasets_for", "fit_sed", "gamma_sed", "knee_ratio_per_gamma_flux", "knee_ratios",
    "protons_at_earth",
    "ratio_to_data", "sed_band",
]

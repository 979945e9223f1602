"""Dipole anisotropy of cosmic rays (paper Sec. 2.3) and what each experiment measures.

- :mod:`crknee.anisotropy.dipole`: dipole vectors from gradients (Fick's law), their sum
  over components and the equatorial projection (amplitude d_perp, RA phase);
- :mod:`crknee.anisotropy.conventions`: what an experiment published (d_perp, first
  harmonic r1 = d_perp <cos dec> over its exposure, ...) from a model dipole;
- :mod:`crknee.anisotropy.sky`: simulated event skies and their Rayleigh analysis;
- :mod:`crknee.anisotropy.field`: the dipole projected on the local magnetic field;
- :mod:`crknee.anisotropy.predict`: the one function from components to every prediction.
"""
from crknee.anisotropy.conventions import (
    CONVENTIONS,
    Convention,
    exposure_moments,
    mean_cos_dec,
    relative_exposure,
)
from crknee.anisotropy.dipole import (
    background_dipole,
    background_gradient_vector,
    combine,
    dipole_from_gradient,
    equatorial,
    equatorial_quantity,
    galactic_to_icrs_matrix,
    solution_dipole,
    unit_vector,
)
from crknee.anisotropy.field import IBEX_FIELD, FieldAlignment
from crknee.anisotropy.predict import (
    KNEE_PARAMETERS,
    DipolePrediction,
    Tabulated,
    dataset_energies_GeV,
    predict_dipole,
    row_energies_GeV,
    tabulate,
)
from crknee.anisotropy.sky import Rayleigh, rayleigh, simulate_sky

__all__ = [
    "CONVENTIONS",
    "IBEX_FIELD",
    "KNEE_PARAMETERS",
    "Convention",
    "DipolePrediction",
    "FieldAlignment",
    "Tabulated",
    "dataset_energies_GeV",
    "predict_dipole",
    "row_energies_GeV",
    "tabulate",
    "Rayleigh",
    "background_dipole",
    "background_gradient_vector",
    "combine",
    "dipole_from_gradient",
    "equatorial",
    "equatorial_quantity",
    "exposure_moments",
    "galactic_to_icrs_matrix",
    "mean_cos_dec",
    "rayleigh",
    "relative_exposure",
    "simulate_sky",
    "solution_dipole",
    "unit_vector",
]

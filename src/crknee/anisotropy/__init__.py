"""Dipole anisotropy of cosmic rays (paper Sec. 2.3) and what each experiment measures.

- :mod:`crknee.anisotropy.dipole`: dipole vectors from gradients (Fick's law), their sum
  over components and the equatorial projection (amplitude d_perp, RA phase).
"""
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

__all__ = [
    "background_dipole",
    "background_gradient_vector",
    "combine",
    "dipole_from_gradient",
    "equatorial",
    "equatorial_quantity",
    "galactic_to_icrs_matrix",
    "solution_dipole",
    "unit_vector",
]

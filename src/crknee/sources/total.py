"""Any set of point sources plus the background: flux at Earth and total dipole.

Fluxes add per species (paper Figs. 3, 6, 8, 9: background + local SNR + knee source);
dipoles add as flux-weighted vectors (:func:`crknee.anisotropy.combine`, paper Sec. 2.3).
The background is a :class:`crknee.propagation.solution.Solution` or None.
"""

from __future__ import annotations

from typing import NamedTuple

import astropy.units as u
import numpy as np

from crknee.anisotropy.dipole import Equatorial, combine, equatorial, solution_dipole
from crknee.modulation import PHI_PAPER
from crknee.sources.point import FLUX_UNIT
from crknee.units import value_in


def total_flux(E: u.Quantity, name: str, sources, solution=None, phi=PHI_PAPER) -> u.Quantity:
    """Modulated flux per unit total energy per particle of species/element ``name``
    ("H1", "He", ... or "all") summed over ``sources`` and the background ``solution``."""
    E = value_in("E", E, "GeV") * u.GeV
    out = np.zeros(np.shape(E.value)) * FLUX_UNIT
    for s in sources:
        out = out + s.flux(name, E, phi)
    if solution is not None:
        bg = solution.all_particle(E, "earth", phi) if name == "all" else solution.earth(name, E, "Etot", phi)
        out = out + bg.to(FLUX_UNIT)
    return out


class TotalDipole(NamedTuple):
    """Result of :func:`total_dipole`: ``flux`` all-particle LIS flux (Quantity, per unit
    total energy per particle), ``dipole`` (N, 3) Galactic Cartesian dipole vectors
    (dimensionless floats), ``valid`` (N,) bool; unpacks as ``J, d, ok = total_dipole(...)``."""

    flux: u.Quantity
    dipole: np.ndarray
    valid: np.ndarray

    def equatorial(self) -> Equatorial:
        """What a ground array measures of :attr:`dipole` (:func:`crknee.anisotropy.equatorial`)."""
        return equatorial(self.dipole)


def total_dipole(E: u.Quantity, sources, solution=None) -> TotalDipole:
    """:class:`TotalDipole` (all-particle LIS flux, total dipole (N, 3), valid (N,)) at total
    energies per particle ``E`` (Quantity, or floats in GeV): the vector sum of the sources'
    and the background's dipoles; ``valid`` is False where any source is outside the
    diffusive regime."""
    E_GeV = np.atleast_1d(value_in("E", E, "GeV"))
    fluxes, dipoles = [], []
    valid = np.ones(E_GeV.shape, dtype=bool)
    for s in sources:
        J, d, ok = s.evaluate(E_GeV, "all")
        fluxes.append(J)
        dipoles.append(d)
        valid &= ok
    if solution is not None:
        J, d = solution_dipole(solution, E_GeV)
        fluxes.append(J)
        dipoles.append(d)
    J_tot, d_tot = combine(fluxes, dipoles)
    return TotalDipole(J_tot * FLUX_UNIT, d_tot, valid)

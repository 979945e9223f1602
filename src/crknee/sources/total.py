"""Any set of point sources plus the background: flux at Earth and total dipole.

Fluxes add per species (paper Figs. 3, 6, 8, 9: background + local SNR + knee source);
dipoles add as flux-weighted vectors (:func:`crknee.anisotropy.combine`, paper Sec. 2.3).
The background is a :class:`crknee.propagation.solution.Solution` or None.
"""
from __future__ import annotations

import astropy.units as u
import numpy as np

from crknee.anisotropy import combine, solution_dipole
from crknee.modulation import PHI_PAPER
from crknee.sources.point import FLUX_UNIT


def total_flux(E: u.Quantity, name: str, sources, solution=None, phi=PHI_PAPER) -> u.Quantity:
    """Modulated flux per unit total energy per particle of species/element ``name``
    ("H1", "He", ... or "all") summed over ``sources`` and the background ``solution``."""
    out = np.zeros(np.shape(E.value)) * FLUX_UNIT
    for s in sources:
        out = out + s.flux(E, name, phi)
    if solution is not None:
        bg = solution.all_particle(E, "earth", phi) if name == "all" else solution.earth(name, E, "Etot", phi)
        out = out + bg.to(FLUX_UNIT)
    return out


def total_dipole(E: u.Quantity, sources, solution=None):
    """(all-particle LIS flux [Quantity], total dipole (N, 3), valid (N,)) at total
    energies per particle ``E``: the vector sum of the sources' and the background's
    dipoles; ``valid`` is False where any source is outside the diffusive regime."""
    E_GeV = np.atleast_1d(E.to_value(u.GeV))
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
    return J_tot * FLUX_UNIT, d_tot, valid

"""Force-field solar modulation (Gleeson & Axford 1968, ApJ 154, 1011).

For a nucleus (Z, A) with rest energy per nucleon m_n, a potential phi shifts the
kinetic energy per nucleon by Phi = (|Z|/A) e phi and the flux per unit Ekn obeys

    J_E(Ekn) = J_LIS(Ekn + Phi) * Ekn (Ekn + 2 m_n) / [(Ekn + Phi)(Ekn + Phi + 2 m_n)]

i.e. the phase-space density f = J/p^2 is conserved along the shift.  The paper uses
phi = 550 MV for every species (Fig. 1 caption).
"""

from __future__ import annotations

from collections.abc import Callable

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.kinematics import Nuclide, nuclide
from crknee.units import value_in

#: The paper's modulation potential (Fig. 1 caption: 550 MV).
PHI_PAPER = 550.0 * u.MV


def _phi_GV(phi) -> float:
    """phi [GV]: a Quantity (MV, GV, ...) or a float in GV (:func:`crknee.units.value_in`)."""
    return value_in("modulation potential phi", phi, "GV", "non-negative")


def force_field_factor(ekn, phi_GV: float, Z: int, A: int, mass_GeV: float):
    """Return (Ekn_LIS, ratio): the LIS energy per nucleon and J_E/J_LIS (plain floats, GeV/n)."""
    ekn = np.asarray(ekn, dtype=float)
    if np.any(~np.isfinite(ekn) | (ekn <= 0)):
        raise InputError(
            f"kinetic energy per nucleon must be finite and > 0; got {ekn[~np.isfinite(ekn) | (ekn <= 0)].flat[0]!r}"
        )
    mn = mass_GeV / A
    Phi = abs(Z) / A * phi_GV
    e_lis = ekn + Phi
    ratio = ekn * (ekn + 2 * mn) / (e_lis * (e_lis + 2 * mn))
    return e_lis, ratio


def force_field(ekn: u.Quantity, lis: Callable[[np.ndarray], np.ndarray], species, phi=PHI_PAPER) -> u.Quantity:
    """Modulated flux at Earth at kinetic energies per nucleon ``ekn`` (Quantity, or floats in GeV).

    ``lis`` maps Ekn [GeV/n, plain floats] to the local interstellar flux in any unit
    (plain floats, or a Quantity); the result has that unit.
    """
    nuc = species if isinstance(species, Nuclide) else nuclide(species)
    e_lis, ratio = force_field_factor(value_in("ekn", ekn, "GeV"), _phi_GV(phi), nuc.Z, nuc.A, nuc.mass_GeV)
    return lis(e_lis) * ratio


def modulate_table(ekn: u.Quantity, flux_lis: u.Quantity, species, phi=PHI_PAPER) -> u.Quantity:
    """Modulate a tabulated LIS (flux per GeV/n on the grid ``ekn``) onto the same grid.

    The LIS is interpolated linearly in log-log; points whose shifted energy falls above
    the grid are extrapolated with the last logarithmic slope.
    """
    x = np.log(value_in("ekn", ekn, "GeV", "positive"))
    unit = flux_lis.unit
    y = np.log(np.clip(flux_lis.value, 1e-300, None))
    if x.size < 2 or np.any(np.diff(x) <= 0):
        raise InputError("modulate_table needs a strictly increasing energy grid with >= 2 points")

    def lis(e):
        le = np.log(e)
        out = np.interp(le, x, y)
        hi = le > x[-1]
        slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
        out[hi] = y[-1] + slope * (le[hi] - x[-1])
        return np.exp(out)

    return force_field(ekn, lis, species, phi) * unit

"""Solver grid -> observables at Earth versus rigidity, in plain floats (the fit's hot loop).

The same physics as :meth:`crknee.propagation.Solution.earth` and
:meth:`~crknee.propagation.Solution.ratio` with ``var = "R"``: for each nuclide i of an
element, p = |Z| R, Ekn(p) (:mod:`crknee.kinematics`), the force field
(:func:`crknee.modulation.force_field_factor`, Gleeson & Axford 1968) shifts Ekn to
Ekn + |Z|/A phi, the intensity per unit Ekn J = c A psi / (4 pi) is interpolated linearly in
(ln Ekn, ln J) on the solver grid, and the exact Jacobian dEkn/dR moves it to per unit R;
isotopes are summed at equal R.  What differs is only the bookkeeping: everything that does
not depend on the fitted parameters (the members of each element, Ekn and dEkn/dR at the
data's rigidities, the unit factor to the data's unit) is computed once per rigidity array,
and the group columns of the flux design matrix come from one log-table per nuclide instead
of three astropy-level calls.  ``tests/test_propagation_fit.py`` checks the results against
``Solution.earth`` / ``Solution.ratio`` to 1e-12.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.kinematics import dvar_dp, from_momentum, momentum_from
from crknee.modulation import force_field_factor
from crknee.propagation.solution import _J_FACTOR, FLUX_UNIT


class ElementAtEarth:
    """An element (isotopes summed) at the rigidities ``R_GV`` for a fixed network:
    :meth:`groups` the modulated intensity per group (n, n_g) per unit R in ``unit``
    (None: m^-2 s^-1 sr^-1 GV^-1)."""

    def __init__(self, nuclides, element: str, R_GV, unit=None):
        R = np.atleast_1d(np.asarray(R_GV, dtype=float))
        self.scale = 1.0 if unit is None else (FLUX_UNIT / u.GV).to(u.Unit(unit))
        self.members = []
        for i, n in enumerate(nuclides):
            if n.element != element:
                continue
            p = momentum_from(R, "R", n.Z, n.A, n.mass_GeV)
            ekn = from_momentum(p, "Ekn", n.Z, n.A, n.mass_GeV)
            jac = dvar_dp(p, "Ekn", n.Z, n.A, n.mass_GeV) / dvar_dp(p, "R", n.Z, n.A, n.mass_GeV)
            self.members.append((i, n, ekn, jac))
        if not self.members:
            raise InputError(f"no nuclide of {element} in the network")

    def groups(self, log_j, log_grid, phi_GV: float) -> np.ndarray:
        """(n, n_g) intensities; ``log_j`` (n_nuc, n_E, n_g) ln J per unit Ekn on the grid
        (:func:`log_intensity`), ``log_grid`` ln of the grid [GeV/n]."""
        out = 0.0
        for i, n, ekn, jac in self.members:
            e_lis, ratio = force_field_factor(ekn, phi_GV, n.Z, n.A, n.mass_GeV)
            le = np.log(e_lis)
            if le.min() < log_grid[0] - 1e-12 or le.max() > log_grid[-1] + 1e-12:
                bad = e_lis[(le < log_grid[0] - 1e-12) | (le > log_grid[-1] + 1e-12)].flat[0]
                raise InputError(
                    f"kinetic energy per nucleon {bad!r} GeV outside the solver grid "
                    f"[{np.exp(log_grid[0]):.4g}, {np.exp(log_grid[-1]):.4g}] GeV/n"
                )
            w = ratio * jac * self.scale
            out = out + np.stack(
                [np.exp(np.interp(le, log_grid, log_j[i, :, g])) * w for g in range(log_j.shape[2])], axis=1
            )
        return out


def log_intensity(raw, nuclides, q=None) -> np.ndarray:
    """ln J per unit Ekn [m^-2 s^-1 sr^-1 (GeV/n)^-1] on the grid, (n_nuc, n_E, n_g) per
    group, or (n_nuc, n_E, 1) for the group normalisations ``q`` summed (floored at 1e-300
    as in :class:`crknee.propagation.Solution`)."""
    A = np.array([n.A for n in nuclides], dtype=float)[:, None, None]
    psi = raw.psi if q is None else (raw.psi @ np.asarray(q, dtype=float))[..., None]
    return np.log(np.maximum(_J_FACTOR * A * psi, 1e-300))

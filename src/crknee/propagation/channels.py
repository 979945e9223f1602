"""Which production channels make a secondary: switch them off and re-solve.

The network is linear in its sources but not in its cross sections (a channel feeds
nuclei that feed others), so the contribution of a set of channels to an observable is
measured, not summed: solve with and without them (a ``production_factor`` of 0, see
:func:`crknee.propagation.solver.solve_raw`) and compare.  Used for the network
cross-check of issue 15 item 5 (docs/nuclear.md, "Nuclei heavier than O in B/C").
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.kinematics import nuclide


def switch_off(network, channels) -> np.ndarray:
    """(n, n) production factors of ``network``: 0 for each (parent, child) of ``channels``
    (nuclide names, or element symbols meaning all their isotopes), 1 elsewhere."""
    names = [n.name for n in network.nuclides]
    elements = [n.element for n in network.nuclides]

    def members(key):
        if key in elements:
            return [i for i in range(len(names)) if elements[i] == key]
        hit = [i for i in range(len(names)) if names[i] == nuclide(key).name]
        if not hit:
            raise InputError(f"{key!r} is not in the network ({len(names)} nuclides)")
        return hit

    fac = np.ones((len(names), len(names)))
    for parent, child in channels:
        fac[np.ix_(members(parent), members(child))] = 0.0
    return fac


def ratio_change(
    solver, channels, num: str = "B", den: str = "C", E: u.Quantity = 10 * u.GeV, var: str = "Ekn", **ratio_kw
) -> float:
    """Relative change r_all / r_without - 1 of the ratio ``num/den`` at ``E`` when the
    ``channels`` (see :func:`switch_off`) are added to the network.

    ``solver``: a :class:`crknee.propagation.PreparedSolver` (its template model is
    solved); ``ratio_kw`` go to :meth:`Solution.ratio` (``at``, ``phi``).
    """
    full = solver.solve().ratio(num, den, E, var=var, **ratio_kw)
    cut = solver.solve(production_factor=switch_off(solver.network, channels)).ratio(num, den, E, var=var, **ratio_kw)
    return float(np.squeeze(full / cut - 1.0))

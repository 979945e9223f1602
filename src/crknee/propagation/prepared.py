"""Many solves of one network: the fit-resolution preset and the prepared solver (issue 15).

A sampler calls the background solver for thousands of parameter sets that differ only in
the transport and source parameters.  Two things make that cheap:

* :data:`FIT_RESOLUTION`, the numerical resolution of the fit: 10 Bessel modes instead of
  40, the energy grid cut at 1e4 GeV/n instead of 1e8 GeV/n (AMS-02 ends at 2 TV, i.e.
  <= 2 TeV/n for every nucleus), and the Li..O network plus p, He (``heaviest="O16"``,
  17 nuclides).  The grid density stays at 20 points per decade and the lower edge at
  0.01 GeV/n: with halo-wide reacceleration (v_A = 40 km/s) 16 points per decade already
  miss the proton flux at 2 GV by 1.4 %, and an edge at 0.05 GeV/n by 15-47 %
  (docs/propagation.md, "Fit resolution").  Validated against the default resolution to
  < 1 % on every fitted observable (tests/test_propagation_resolution.py).
* :class:`PreparedSolver`: the cross sections on the grid, the gas rates, the
  momenta, the ionisation/Coulomb losses, the Bessel geometry and source projection
  (:func:`crknee.propagation.solver.prepare`) are computed once; each
  :meth:`PreparedSolver.solve` only assembles and solves the mode equations.

Note that the O-and-lighter network leaves out the B, Be, Li made by Ne ... Fe
(+11 % on B/C at 10 GeV/n with crknee's cross sections; docs/nuclear.md): pass
``heaviest="Fe56"`` (or a ``species`` list) to :func:`fit_resolution_model` to keep them, at
about 4 times the cost.
"""

from __future__ import annotations

from dataclasses import replace

import astropy.units as u
import numpy as np

from crknee.errors import InputError
from crknee.propagation.model import PropagationModel
from crknee.propagation.solution import Q_UNIT, Solution, solver_inputs
from crknee.propagation.solver import GROUPS, prepare, solve_raw
from crknee.units import value_in

#: Numerical fields of :class:`PropagationModel` set by the fit resolution (module docstring).
FIT_RESOLUTION = {
    "n_modes": 10,
    "points_per_decade": 20,
    "ekn_min": 0.01 * u.GeV,
    "ekn_max": 1.0e4 * u.GeV,
    "heaviest": "O16",
}


def fit_resolution_model(model: PropagationModel | None = None, **changes) -> PropagationModel:
    """``model`` (default :class:`PropagationModel` ()) at :data:`FIT_RESOLUTION`, then
    ``changes`` applied (field -> value, e.g. ``heaviest="Fe56"``, ``D0=...``)."""
    model = PropagationModel() if model is None else model
    if not isinstance(model, PropagationModel):
        raise InputError(f"model must be a PropagationModel; got {type(model).__name__}")
    return _replace(model, {**FIT_RESOLUTION, **changes})


def _replace(model: PropagationModel, changes: dict) -> PropagationModel:
    """dataclasses.replace with an InputError naming an unknown field."""
    unknown = sorted(set(changes) - set(PropagationModel.__dataclass_fields__))
    if unknown:
        raise InputError(f"PropagationModel has no field {unknown[0]!r}")
    return replace(model, **changes)


class PreparedSolver:
    """Solve many :class:`PropagationModel` s that share the network, gas, grid and geometry.

    ``model``: the template (its :data:`crknee.propagation.solver.SETUP_FIELDS` are frozen:
    R_gal, r_sun, h, he_to_h, n_modes, points_per_decade, ekn_min, ekn_max, species,
    heaviest, production, inelastic); default ``fit_resolution_model()``.  ``network``,
    ``disk``, ``loss_rate`` as for :func:`crknee.propagation.solve` (defaults built from
    the template).

    :meth:`solve` takes a model, or keyword changes of the template, and returns the
    :class:`~crknee.propagation.Solution`; a model whose frozen fields differ raises
    :class:`~crknee.errors.InputError` naming the field.
    """

    def __init__(self, model: PropagationModel | None = None, *, network=None, disk=None, loss_rate=None):
        model = fit_resolution_model() if model is None else model
        if not isinstance(model, PropagationModel):
            raise InputError(f"model must be a PropagationModel; got {type(model).__name__}")
        network, disk, loss_rate = solver_inputs(model, network, disk, loss_rate)
        self.model = model
        self.network = network
        self.disk = disk
        self.loss_rate = loss_rate
        self.setup = prepare(model, network, disk, loss_rate)

    def production_factor(self, scale: dict) -> np.ndarray:
        """(n, n) factors on the production rates [parent, child] from ``scale``:
        {child element or nuclide name: factor}, e.g. ``{"B": 1.1, "Be10": 0.9}`` (a
        nuclide entry wins over its element's); InputError naming an unknown key."""
        names = [n.name for n in self.network.nuclides]
        elements = [n.element for n in self.network.nuclides]
        col = np.ones(len(names))
        for key in sorted(scale, key=lambda k: k in names):  # elements first, then nuclides
            hit = [i for i in range(len(names)) if key in (names[i], elements[i])]
            if not hit:
                raise InputError(f"production scale for {key!r}: no such element or nuclide in the network {names}")
            col[hit] = value_in(f"production scale of {key}", scale[key], "", "non-negative")
        return np.broadcast_to(col, (len(names), len(names)))

    def solve(
        self,
        model: PropagationModel | None = None,
        *,
        norms=None,
        production_scale=None,
        production_factor=None,
        **changes,
    ) -> Solution:
        """Solution for ``model`` (default: the template) with ``changes`` applied.

        ``norms``: Q_g for :data:`~crknee.propagation.solver.GROUPS` (Quantity in
        cm^-3 GeV^-1 Myr^-1); None: 1 each (the solution is linear in them, see
        :meth:`Solution.with_norms`).  ``production_scale``: {child element or nuclide:
        factor} on every production cross section into it (nuisance parameters of the
        Li, Be, B production, issue 15 item 2; :meth:`production_factor`);
        ``production_factor``: the full [parent, child] array instead (see
        :func:`crknee.propagation.solver.solve_raw`).
        """
        model = self.model if model is None else model
        if not isinstance(model, PropagationModel):
            raise InputError(f"model must be a PropagationModel; got {type(model).__name__}")
        if changes:
            model = _replace(model, changes)
        if production_scale is not None:
            if production_factor is not None:
                raise InputError("give production_scale or production_factor, not both")
            production_factor = self.production_factor(production_scale)
        raw = solve_raw(model, self.network, self.disk, self.loss_rate, self.setup, production_factor)
        norms = np.ones(len(GROUPS)) * Q_UNIT if norms is None else norms
        return Solution(model=model, nuclides=tuple(self.network.nuclides), raw=raw, norms=norms)

"""Parameters -> propagated solution -> predicted AMS-02 observables -> log-posterior.

:class:`PropagationFitModel` holds a :class:`crknee.propagation.PreparedSolver` at the fit
resolution (network up to ``heaviest``, everything independent of the fitted parameters
prepared once) and the observables.  One evaluation: the template model with the fitted
transport, break, injection and abundance values (``source_abundance``, per element
relative to GALPROP's), one ``PreparedSolver.solve`` with the cross-section nuisances as
its ``production_factor`` (:func:`.nuisance.production_factors`) and unit group
normalisations, then

* ratios at Earth (force field at phi; normalisations cancel within one primary group),
* spectra at Earth as a design matrix over the three group normalisations (the solution is
  linear in them), which :func:`.likelihood.marginal_linear` integrates out.

ln L = -1/2 [sum_ratios chi2 + chi2_spectra(q_hat) + ln det F]  (constants dropped).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np

from crknee.errors import ConfigError
from crknee.fit.propagation.covariance import covariance
from crknee.fit.propagation.likelihood import CorrelatedGaussian, marginal_linear
from crknee.fit.propagation.nuisance import production_factors
from crknee.fit.propagation.parameters import ABUNDANCE_ELEMENTS, NUISANCE_ELEMENTS
from crknee.fit.propagation.projection import ElementAtEarth, log_intensity
from crknee.propagation.solution import Q_UNIT
from crknee.propagation.solver import GROUPS
from crknee.units import value_in

#: fit parameter -> (PropagationModel field, unit)
MODEL_FIELDS = {
    "D0_1e28_cm2_s": ("D0", 1e28 * u.cm**2 / u.s),
    "delta": ("delta", None),
    "eta": ("eta", None),
    "vA_km_s": ("v_A", u.km / u.s),
    "Vc_km_s": ("V_c", u.km / u.s),
    "H_kpc": ("H", u.kpc),
    "Rb_GV": ("R_b", u.GV),
    "Delta_delta": ("Delta_delta", None),
    "s_b": ("s_b", None),
    "nu1": ("nu1", None),
    "nu2": ("nu2", None),
    "Rbr_GV": ("R_br", u.GV),
}


#: Fluxes below this are the solver's log floor (1e-300) of a species a group does not feed.
_FLOOR = 1e-250


def network_elements(network) -> list[str]:
    """Elements of a network, in network order, each once."""
    out = []
    for n in network.nuclides:
        if n.element not in out:
            out.append(n.element)
    return out


class PropagationFitModel:
    """The forward model of the fit (module docstring).

    ``solver``: :class:`crknee.propagation.PreparedSolver`; ``observables``: list of
    :class:`~.data.Observable`; ``names``: all parameter names in order; ``length_dex``:
    correlation length of the systematics (:mod:`.covariance`)."""

    def __init__(self, solver, observables, names, length_dex: float, kernel: str = "exponential"):
        self.solver, self.observables, self.names = solver, list(observables), list(names)
        self.elements = network_elements(solver.network)
        self.gauss = [
            CorrelatedGaussian(covariance(o.R_GV, o.stat, o.sys, length_dex, kernel)) for o in self.observables
        ]
        self._units = [u.Unit(o.unit) for o in self.observables]
        self._at_data = {}
        self._flux_index = [k for k, o in enumerate(self.observables) if o.kind == "flux"]
        self._d_white = (
            np.concatenate([self.gauss[k].whiten(self.observables[k].y) for k in self._flux_index])
            if self._flux_index
            else np.zeros(0)
        )

    def with_values(self, y_list) -> PropagationFitModel:
        """A copy with other data values (same datasets, rigidities and errors, hence the
        same covariance): mock data (:mod:`crknee.fit.propagation.mock`)."""
        new = copy.copy(self)
        new.observables = [replace(o, y=np.asarray(y, dtype=float)) for o, y in zip(self.observables, y_list)]
        new._at_data = self._at_data
        new._d_white = (
            np.concatenate([self.gauss[k].whiten(new.observables[k].y) for k in self._flux_index])
            if self._flux_index
            else np.zeros(0)
        )
        return new

    # -- parameters -> physics -------------------------------------------------------------
    def physical(self, values):
        """(PropagationModel, {X: (n_X, s_X)}, phi [MV]) for all-parameter ``values`` (model order)."""
        v = dict(zip(self.names, np.asarray(values, dtype=float)))
        changes = {
            fld: (v[name] * unit if unit is not None else float(v[name])) for name, (fld, unit) in MODEL_FIELDS.items()
        }
        present = set(self.elements)
        changes["source_abundance"] = {x: v[f"a_{x}"] for x in ABUNDANCE_ELEMENTS if x in present}
        changes["source_index"] = {"H": (v["nu1"] + v["dnu_H"], v["nu2"] + v["dnu_H"])}
        model = replace(self.solver.model, **changes)
        xs = {x: (v[f"xs_{x}"], v[f"xs_slope_{x}"]) for x in NUISANCE_ELEMENTS if x in present}
        return model, xs, v["phi_MV"]

    def solution(self, values):
        """(Solution with unit group normalisations, phi [MV])."""
        model, xs, phi = self.physical(values)
        fac = production_factors(self.solver.network.nuclides, self.solver.setup.ekn, xs)
        return self.solver.solve(model, production_factor=fac), phi

    def _elements_at(self, k: int, R_GV):
        """:class:`.projection.ElementAtEarth` of observable ``k``'s species at ``R_GV``
        (None: the data's rigidities, built once)."""
        obs = self.observables[k]
        unit = self._units[k] if obs.kind == "flux" else None  # a ratio's unit factor cancels
        if R_GV is None:
            if k not in self._at_data:
                self._at_data[k] = [
                    ElementAtEarth(self.solver.network.nuclides, s, obs.R_GV, unit) for s in obs.species
                ]
            return self._at_data[k]
        return [ElementAtEarth(self.solver.network.nuclides, s, R_GV, unit) for s in obs.species]

    def predict(self, sol, k: int, phi_MV: float, R_GV=None, tables=None) -> np.ndarray:
        """Observable ``k``: a ratio (n,) or a flux design matrix (n, 3) over the group
        normalisations, in the data's unit, at ``R_GV`` (default the data's rigidities);
        force field at ``phi_MV`` (:mod:`.projection`; ``tables`` its log-intensity tables
        of ``sol``, computed when None)."""
        obs = self.observables[k]
        phi_GV = value_in("modulation potential phi", phi_MV * 1e-3, "GV", "non-negative")
        log_grid = np.log(sol.raw.ekn)
        tables = tables or self.tables(sol)
        at = self._elements_at(k, None if R_GV is None else np.asarray(R_GV, dtype=float))
        if obs.kind == "ratio":
            num, den = (e.groups(tables["sum"], log_grid, phi_GV)[:, 0] for e in at)
            return num / den
        M = at[0].groups(tables["groups"], log_grid, phi_GV)
        return np.where(M > _FLOOR, M, 0.0)

    @staticmethod
    def tables(sol) -> dict:
        """ln J on the solver grid per group ("groups") and for the solution's norms ("sum")."""
        return {
            "groups": log_intensity(sol.raw, sol.nuclides),
            "sum": log_intensity(sol.raw, sol.nuclides, sol.norms.to_value(Q_UNIT)),
        }

    # -- likelihood ------------------------------------------------------------------------
    def evaluate(self, values) -> dict:
        """ln L, chi2 per dataset (at the best group normalisations q_hat), q_hat [Q_UNIT]."""
        sol, phi = self.solution(values)
        chi2, preds = {}, {}
        tables = self.tables(sol)
        for k, o in enumerate(self.observables):
            preds[k] = self.predict(sol, k, phi, tables=tables)
            if o.kind == "ratio":
                chi2[o.name] = self.gauss[k].chi2(preds[k] - o.y)
        q = np.zeros(len(GROUPS))
        logdet = 0.0
        if self._flux_index:
            M = np.concatenate([self.gauss[k].whiten(preds[k]) for k in self._flux_index])
            _, logdet, q = marginal_linear(self._d_white, M)
            for k in self._flux_index:
                chi2[self.observables[k].name] = self.gauss[k].chi2(preds[k] @ q - self.observables[k].y)
        loglike = -0.5 * (sum(chi2.values()) + logdet)
        if np.any(q < 0):
            loglike = -np.inf  # a negative source normalisation is unphysical
        return {
            "loglike": float(loglike),
            "chi2": chi2,
            "q": q,
            "solution": sol,
            "phi_MV": phi,
            "predictions": {k: (p if self.observables[k].kind == "ratio" else p @ q) for k, p in preds.items()},
        }

    def curves(self, values, grids) -> list:
        """Predicted observable of every dataset on ``grids`` (one rigidity array [GV] per
        dataset), spectra normalised by q_hat of the data."""
        ev = self.evaluate(values)
        tables = self.tables(ev["solution"])
        out = []
        for k, (o, R) in enumerate(zip(self.observables, grids)):
            p = self.predict(ev["solution"], k, ev["phi_MV"], R, tables)
            out.append(p if o.kind == "ratio" else p @ ev["q"])
        return out


class LogPosterior:
    """Vectorised log-posterior ((n, n_free) -> (n,)) for crknee.fit.sampler; with
    ``prior=False`` the log-likelihood (crknee.fit.nested)."""

    def __init__(self, model: PropagationFitModel, parameters, prior: bool = True):
        self.model, self.parameters, self.prior = model, parameters, prior

    def __call__(self, theta) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        lp = self.parameters.log_prior(theta)
        out = np.full(theta.shape[0], -np.inf)
        full = self.parameters.full(theta)
        for i in np.flatnonzero(np.isfinite(lp)):
            out[i] = self.model.evaluate(full[i])["loglike"] + (lp[i] if self.prior else 0.0)
        return out


@dataclass
class FitProblem:
    """Everything one fit needs: validated settings, parameters, model, sampler settings."""

    settings: dict
    parameters: object
    model: PropagationFitModel
    sampler: object

    @property
    def observables(self):
        return self.model.observables


def prepared_solver(settings: dict, heaviest: str | None = None):
    """The :class:`crknee.propagation.PreparedSolver` at the config's resolution
    (``heaviest`` overrides the config's network)."""
    from crknee.errors import CrkneeError
    from crknee.propagation.prepared import PreparedSolver, fit_resolution_model

    try:
        template = fit_resolution_model(
            n_modes=settings["n_modes"],
            points_per_decade=settings["points_per_decade"],
            ekn_min=settings["ekn_min_GeV"] * u.GeV,
            ekn_max=settings["ekn_max_GeV"] * u.GeV,
            heaviest=heaviest or settings["heaviest"],
        )
        return PreparedSolver(template)
    except CrkneeError as exc:
        raise ConfigError(f"propagation_fit: {exc}") from None


def problem_from_settings(settings: dict, load=None) -> FitProblem:
    """Validate a merged ``[propagation_fit]`` table (:func:`.settings.load_settings`) into a
    :class:`FitProblem`."""
    from crknee.fit.propagation.data import observables
    from crknee.fit.propagation.parameters import parameter_set
    from crknee.fit.schema import sampler_settings

    parameters = parameter_set(settings.get("parameters", {}))
    solver = prepared_solver(settings)
    elements = network_elements(solver.network)
    for p in parameters.free:
        el = p.name.split("_")[-1] if p.name.startswith(("a_", "xs_")) else None
        if el is not None and el not in elements:
            raise ConfigError(
                f"propagation_fit.parameters.{p.name} is free but the fit's network (up to "
                f"{settings['heaviest']}) holds no {el}; fix it (prior = 'fixed') or raise heaviest"
            )
    obs = observables(settings.get("datasets"), "propagation_fit.datasets", elements, load)
    model = PropagationFitModel(
        solver, obs, parameters.names, settings["sys_correlation_length_dex"], settings["sys_correlation_kernel"]
    )
    sampler = sampler_settings(settings.get("sampler", {}), "propagation_fit.sampler")
    return FitProblem(settings, parameters, model, sampler)

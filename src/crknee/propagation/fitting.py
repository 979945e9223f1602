"""Fits of the background model to bundled data (paper Sec. 2.2: "determined by fitting
low-energy B/C and cosmic-ray proton observational data", Table 1).

* :func:`fit_normalisations`: the group normalisations Q_H, Q_He (eq. 4's Q0) by LINEAR
  weighted least squares (the solution is linear in them) to the AMS-02 proton and
  helium spectra (Aguilar et al. 2021, Phys. Rep. 894, 1) in 20-200 GV, below the
  region shaped by the local SNR of the paper (its Sec. 3: hardening at ~200 GV).
  No C or O spectrum is bundled, so Z > 2 nuclei keep the GALPROP source abundances
  relative to H1 (Q_{Z>2} = Q_H); B/C does not depend on that choice.
* :func:`fit_propagation`: D0, delta and v_A (Table 1) by non-linear least squares
  (:func:`scipy.optimize.least_squares`) to the AMS-02 B/C ratio vs rigidity, with the
  force field at phi = 550 MV (Fig. 1 caption) and the normalisations refitted linearly.

Errors: symmetric, the mean of y_err_lo and y_err_hi (stat and sys in quadrature, as
returned by :func:`crknee.data.load`).  Points flagged as upper limits are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np
from scipy.optimize import least_squares

from crknee.errors import DataError, InputError
from crknee.modulation import PHI_PAPER
from crknee.propagation.solution import Q_UNIT, Solution, solve
from crknee.propagation.solver import GROUPS

#: Spectra fixing the normalisations: (dataset, element).
NORMALISATION_DATA = (("proton/AMS02_2021_PhysRep", "H"), ("helium/AMS02_2021_PhysRep", "He"))
#: Rigidity window of the normalisation fit [GV].
NORMALISATION_WINDOW_GV = (20.0, 200.0)
#: B/C dataset of the propagation fit (x = rigidity).
BC_DATA = "bc/AMS02_2021_PhysRep"


@dataclass(frozen=True)
class NormalisationFit:
    """Result of :func:`fit_normalisations`: ``norms`` (Q_g for GROUPS), chi2, ndof."""

    norms: u.Quantity
    chi2: float
    ndof: int


@dataclass(frozen=True)
class PropagationFit:
    """Result of :func:`fit_propagation`: best ``model``, its ``solution``, the B/C chi2 and
    number of degrees of freedom, the 1-sigma errors of the free parameters (from the
    Jacobian, in the parameters' units) and the normalisation fit."""

    model: object
    solution: Solution
    chi2: float
    ndof: int
    errors: dict
    normalisation: NormalisationFit


def _load(name: str):
    from crknee.data import load

    t = load(name)
    keep = ~np.asarray(t["upper_limit"], dtype=bool)
    x = t["x"][keep]
    y = np.asarray(t["y"][keep].value, dtype=float)
    err = 0.5 * (np.asarray(t["y_err_lo"][keep].value) + np.asarray(t["y_err_hi"][keep].value))
    return t.meta.get("x_variable", "R"), x, y, err, t["y"].unit


def _window(x: u.Quantity, window_GV) -> np.ndarray:
    v = x.to_value(u.GV)
    return (v >= window_GV[0]) & (v <= window_GV[1])


def fit_normalisations(
    solution: Solution, data=NORMALISATION_DATA, window_GV=NORMALISATION_WINDOW_GV, phi=PHI_PAPER
) -> NormalisationFit:
    """Q_H and Q_He by linear least squares to ``data`` (dataset, element) in ``window_GV``.

    The heavy group is tied to hydrogen (Q_{Z>2} = Q_H, source abundances relative to H1).
    """
    rows, target, sigma = [], [], []
    for name, element in data:
        var, x, y, err, unit = _load(name)
        if var != "R":
            raise DataError(f"{name}: the normalisation fit expects spectra vs rigidity; got x_variable {var!r}")
        sel = _window(x, window_GV)
        if sel.sum() == 0:
            raise DataError(f"{name}: no point inside the window {window_GV} GV")
        cols = []
        for g in range(len(GROUPS)):
            e = np.zeros(len(GROUPS))
            e[g] = 1.0
            cols.append(solution.with_norms(e * Q_UNIT).earth(element, x[sel], "R", phi).to_value(unit))
        rows.append(np.stack([cols[0] + cols[2], cols[1]], axis=1))
        target.append(y[sel])
        sigma.append(err[sel])
    M = np.concatenate(rows) / np.concatenate(sigma)[:, None]
    t = np.concatenate(target) / np.concatenate(sigma)
    coef, *_ = np.linalg.lstsq(M, t, rcond=None)
    if np.any(coef <= 0):
        raise DataError(f"normalisation fit gave non-positive Q (H, He) = {coef!r}: model and data disagree")
    chi2 = float(np.sum((M @ coef - t) ** 2))
    return NormalisationFit(norms=np.array([coef[0], coef[1], coef[0]]) * Q_UNIT, chi2=chi2, ndof=t.size - 2)


def bc_chi2(solution: Solution, name: str = BC_DATA, phi=PHI_PAPER, R_min_GV: float = 0.0) -> tuple[float, int]:
    """(chi2, number of points) of the B/C ratio at Earth against dataset ``name`` (x = R)."""
    var, x, y, err, _ = _load(name)
    sel = np.ones(y.size, dtype=bool) if var != "R" else x.to_value(u.GV) >= R_min_GV
    model = solution.ratio("B", "C", x[sel], var, "earth", phi)
    return float(np.sum(((model - y[sel]) / err[sel]) ** 2)), int(sel.sum())


#: Free parameters of :func:`fit_propagation`: name -> (unit, transform to the fit variable, inverse, bounds).
_FREE = {
    "D0": (u.cm**2 / u.s, lambda v: np.log10(v), lambda t: 10.0**t, (27.0, 30.0)),
    "delta": (u.dimensionless_unscaled, float, float, (0.05, 0.95)),
    "v_A": (u.km / u.s, float, float, (0.0, 100.0)),
}


def fit_propagation(
    model=None,
    *,
    free=("D0", "delta", "v_A"),
    network=None,
    disk=None,
    loss_rate=None,
    bc=BC_DATA,
    phi=PHI_PAPER,
    R_min_GV: float = 4.0,
) -> PropagationFit:
    """Fit ``free`` parameters of ``model`` to the B/C ratio ``bc`` above ``R_min_GV``.

    The starting point is ``model`` (default: Table 1).  ``R_min_GV`` = 4 GV skips the
    lowest rigidities where the force-field approximation is least reliable.
    """
    from crknee.propagation.model import PropagationModel

    model = PropagationModel() if model is None else model
    for name in free:
        if name not in _FREE:
            raise InputError(f"fit_propagation cannot free {name!r}; choose among {sorted(_FREE)}")
    if network is None:
        from crknee.propagation.network import build_network

        network = build_network(
            model.species, heaviest=model.heaviest, production=model.production, inelastic=model.inelastic
        )
    var, x, y, err, _ = _load(bc)
    if var != "R":
        raise DataError(f"{bc}: fit_propagation expects B/C vs rigidity; got x_variable {var!r}")
    sel = x.to_value(u.GV) >= R_min_GV
    x, y, err = x[sel], y[sel], err[sel]

    def build(t):
        changes = {}
        for name, ti in zip(free, t):
            unit, _, inv, _ = _FREE[name]
            val = inv(ti)
            changes[name] = val * unit if unit is not u.dimensionless_unscaled else val
        return replace(model, **changes)

    def residuals(t):
        m = build(t)
        s = solve(m, network=network, disk=disk, loss_rate=loss_rate, norms=np.ones(len(GROUPS)) * Q_UNIT)
        return (s.ratio("B", "C", x, "R", "earth", phi) - y) / err

    t0, lo, hi = [], [], []
    for name in free:
        unit, fwd, _, (a, b) = _FREE[name]
        val = getattr(model, name)
        t0.append(fwd(val.to_value(unit) if isinstance(val, u.Quantity) else val))
        lo.append(a)
        hi.append(b)
    t0 = np.clip(t0, np.array(lo) + 1e-6, np.array(hi) - 1e-6)
    res = least_squares(residuals, t0, bounds=(lo, hi), x_scale="jac", diff_step=1e-3)
    best = build(res.x)
    sol = solve(best, network=network, disk=disk, loss_rate=loss_rate, norms=np.ones(len(GROUPS)) * Q_UNIT)
    norm = fit_normalisations(sol, phi=phi)
    cov = np.linalg.pinv(res.jac.T @ res.jac)
    errors = {}
    for k, name in enumerate(free):
        unit, _, inv, _ = _FREE[name]
        sig_t = np.sqrt(cov[k, k])
        # propagate through the transform (log10 for D0)
        errors[name] = abs(inv(res.x[k] + sig_t) - inv(res.x[k] - sig_t)) / 2.0 * unit
    return PropagationFit(
        model=best,
        solution=sol.with_norms(norm.norms),
        chi2=float(2 * res.cost),
        ndof=int(y.size - len(free)),
        errors=errors,
        normalisation=norm,
    )

"""The likelihood as a sum of declared pieces, each a dataset plus a model prediction.

A :class:`Piece` holds the points of one dataset that fall in its configured energy
window, for one observable:

- ``"flux"``: differential intensity J(Etot) [m^-2 s^-1 sr^-1 GeV^-1] of a species
  (element, nuclide or ``"all"``);
- ``"amplitude"``: equatorial dipole amplitude (fraction);
- ``"phase"``: right ascension of the equatorial dipole [deg].

Terms (all vectorised over walkers; constants independent of the model dropped):

- measured points: split ("dimidiated") normal with the lower error below the value and
  the upper error above it (Barlow 2004, arXiv:physics/0406120, sec. 3);
- upper limits at confidence level CL: log Phi((UL - m) / sigma_UL) with
  sigma_UL = UL / Phi^-1(CL) unless an error is given for the row, i.e. the probability
  that a measurement would have fallen below the limit (Sawicki 2012, PASP 124, 1208, eq. 15);
- phases are circular: the residual is the wrapped difference in (-180, 180] deg.

Energies of a point: ``E_GeV`` (finite) is where the model is evaluated; a row published
only as a bin or a threshold (``E_GeV`` NaN) is compared with the flux-weighted mean of
the model over [E_lo, E_hi] (see :mod:`crknee.fit.model`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import log_ndtr, ndtri

from crknee.errors import ConfigError

OBSERVABLES = ("flux", "amplitude", "phase")


def wrapped_difference_deg(a, b) -> np.ndarray:
    """a - b wrapped into (-180, 180] degrees."""
    d = np.mod(np.asarray(a, dtype=float) - np.asarray(b, dtype=float) + 180.0, 360.0) - 180.0
    return np.where(d == -180.0, 180.0, d)


@dataclass(frozen=True)
class Piece:
    """One dataset x one observable, restricted to its energy window.

    Arrays (length n_points): ``E_GeV`` (NaN for bin/threshold rows), ``E_lo_GeV``,
    ``E_hi_GeV`` (inf for a threshold), ``y``, ``err_lo``, ``err_hi``, ``upper_limit``.
    ``fit`` False makes the piece a check (drawn, reported, not in the likelihood).
    """

    name: str
    observable: str
    E_GeV: np.ndarray
    y: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    upper_limit: np.ndarray
    species: str | None = None
    E_lo_GeV: np.ndarray = field(default=None)
    E_hi_GeV: np.ndarray = field(default=None)
    ul_cl: float = 0.95
    fit: bool = True

    def __post_init__(self):
        if self.observable not in OBSERVABLES:
            raise ConfigError(f"piece {self.name!r}: observable must be one of {OBSERVABLES}; got {self.observable!r}")
        if self.observable == "flux" and not self.species:
            raise ConfigError(f"piece {self.name!r}: a flux piece needs a species")
        if not 0.5 < self.ul_cl < 1.0:
            raise ConfigError(f"piece {self.name!r}: upper_limit_cl must lie in (0.5, 1); got {self.ul_cl!r}")
        arrays = {k: np.atleast_1d(np.asarray(getattr(self, k), dtype=float))
                  for k in ("E_GeV", "y", "err_lo", "err_hi")}
        n = arrays["y"].size
        nan = np.full(n, np.nan)
        arrays["E_lo_GeV"] = nan if self.E_lo_GeV is None else np.asarray(self.E_lo_GeV, dtype=float)
        arrays["E_hi_GeV"] = nan if self.E_hi_GeV is None else np.asarray(self.E_hi_GeV, dtype=float)
        for k, v in arrays.items():
            if v.shape != (n,):
                raise ConfigError(f"piece {self.name!r}: column {k} has shape {v.shape}, expected ({n},)")
            object.__setattr__(self, k, v)
        ul = np.asarray(self.upper_limit, dtype=bool).reshape(n)
        object.__setattr__(self, "upper_limit", ul)
        point = np.isfinite(self.E_GeV)
        span = np.isfinite(self.E_lo_GeV) & (self.E_hi_GeV > self.E_lo_GeV)
        if not np.all(point | span):
            raise ConfigError(f"piece {self.name!r}: a row has neither an energy nor a bin [E_lo, E_hi]")
        err_ok = (self.err_lo > 0) & (self.err_hi > 0)
        if not np.all(err_ok | ul):
            raise ConfigError(f"piece {self.name!r}: a measured row has a non-positive error")
        # sigma of the upper-limit term: the row's error when given, else UL / z(CL)
        z = ndtri(self.ul_cl)
        s_ul = np.where(err_ok, self.err_hi, np.abs(self.y) / z)
        object.__setattr__(self, "_sigma_ul", s_ul)

    @property
    def n_points(self) -> int:
        return int(self.y.size)

    def with_values(self, y) -> "Piece":
        """The same piece with new measured values (used by the mock-data mode)."""
        return replace(self, y=np.asarray(y, dtype=float))

    def residual(self, model) -> np.ndarray:
        """model - data; wrapped into (-180, 180] deg for phases. Broadcasts over walkers."""
        if self.observable == "phase":
            return wrapped_difference_deg(model, self.y)
        return np.asarray(model, dtype=float) - self.y

    def log_like(self, model) -> np.ndarray:
        """log-likelihood of model values (n_walkers, n_points) -> (n_walkers,)."""
        model = np.atleast_2d(model)
        r = self.residual(model)
        sig = np.where(r < 0.0, self.err_lo, self.err_hi)
        measured = np.where(self.upper_limit, 0.0, -0.5 * (r / np.where(self.upper_limit, 1.0, sig)) ** 2)
        terms = measured
        if self.upper_limit.any():
            limit = log_ndtr(-r / self._sigma_ul)
            terms = np.where(self.upper_limit, limit, measured)
        return np.sum(terms, axis=-1)

    def describe(self) -> str:
        what = f"{self.observable} of {self.species}" if self.observable == "flux" else self.observable
        e = np.where(np.isfinite(self.E_GeV), self.E_GeV, self.E_lo_GeV)
        role = "fit" if self.fit else "check"
        return (f"{self.name}: {what}, {self.n_points} points ({int(self.upper_limit.sum())} upper limits), "
                f"E = {np.nanmin(e):.3g}-{np.nanmax(e):.3g} GeV [{role}]")


class LogPosterior:
    """log prior + sum of the fitted pieces' log-likelihoods, vectorised over walkers.

    ``model.bind(pieces)`` must return ``predict(values) -> list of (n, n_points)`` arrays,
    ``values`` being the (n, n_all) parameters in the model's order (plain floats in the
    declared units).  Non-finite predictions give -inf.  Picklable, so it can be shipped
    to process pools and dask workers.
    """

    def __init__(self, parameters, model, pieces):
        self.parameters = parameters
        self.model = model
        self.pieces = [p for p in pieces if p.fit]
        self._predict = model.bind(self.pieces)

    def log_likelihood(self, theta) -> np.ndarray:
        values = self.parameters.full(theta)
        total = np.zeros(values.shape[0])
        for piece, pred in zip(self.pieces, self._predict(values)):
            total = total + piece.log_like(pred)
        return np.where(np.isfinite(total), total, -np.inf)

    def __call__(self, theta) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        lp = self.parameters.log_prior(theta)
        ok = np.isfinite(lp)
        if ok.any():
            lp[ok] = lp[ok] + self.log_likelihood(theta[ok])
        return lp

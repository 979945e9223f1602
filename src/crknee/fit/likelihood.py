"""The likelihood as a sum of declared pieces, each a dataset plus a model prediction.

A :class:`Piece` holds the points of one dataset that fall in its configured energy
window, for one observable:

- ``"flux"``: differential intensity J(Etot) [m^-2 s^-1 sr^-1 GeV^-1] of a species
  (element, nuclide, ``"light"`` = H + He or ``"all"``);
- ``"lnA"``: the mean logarithmic mass <ln A>(Etot) of all cosmic rays;
- ``"amplitude"``: the dipole amplitude in the dataset's convention (fraction,
  :class:`crknee.anisotropy.conventions.Convention`: d_perp, first harmonic r1, ...);
- ``"phase"``: right ascension of the equatorial dipole [deg];
- ``"harmonic"`` (:class:`HarmonicPiece`): amplitude and phase together, as the 2D
  first-harmonic vector they are measured as (:mod:`crknee.fit.harmonic`).

The model hands every anisotropy piece the (bin-averaged) total dipole vector in
heliocentric Galactic Cartesian coordinates; :meth:`Piece.observe` turns it into what the
dataset published.  "amplitude" + "phase" pieces are the paper's treatment (independent
split normals); "harmonic" is crknee's default (docs/anisotropy.md, "Likelihood of a
harmonic").

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

from crknee.anisotropy import equatorial
from crknee.anisotropy.conventions import Convention
from crknee.errors import ConfigError, CrkneeError
from crknee.fit import harmonic

OBSERVABLES = ("flux", "lnA", "amplitude", "phase", "harmonic")


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
    ``convention``: what an "amplitude" piece's dataset published
    (:class:`crknee.anisotropy.conventions.Convention`; default d_perp).
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
    convention: object = None

    def __post_init__(self):
        if self.observable not in OBSERVABLES or self.observable == "harmonic":
            raise ConfigError(f"piece {self.name!r}: observable must be one of {OBSERVABLES}; got {self.observable!r}")
        if self.observable == "flux" and not self.species:
            raise ConfigError(f"piece {self.name!r}: a flux piece needs a species")
        if self.observable == "amplitude" and self.convention is None:
            # no declared convention: the amplitude is the equatorial dipole d_perp
            object.__setattr__(self, "convention", Convention("d_perp"))
        if not 0.5 < self.ul_cl < 1.0:
            raise ConfigError(f"piece {self.name!r}: upper_limit_cl must lie in (0.5, 1); got {self.ul_cl!r}")
        arrays = {
            k: np.atleast_1d(np.asarray(getattr(self, k), dtype=float)) for k in ("E_GeV", "y", "err_lo", "err_hi")
        }
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

    def with_values(self, y) -> Piece:
        """The same piece with new measured values (used by the mock-data mode)."""
        return replace(self, y=np.asarray(y, dtype=float))

    def observe(self, prediction) -> np.ndarray:
        """What this dataset measured, from the model's prediction: the flux or <ln A>
        itself, or from dipole vectors (n, n_points, 3) the amplitude in the dataset's
        convention or the RA phase [deg]."""
        if self.observable in ("flux", "lnA"):
            return prediction
        if self.observable == "amplitude":
            return self.convention.amplitude(prediction)
        return equatorial(prediction)[1]

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
        return (
            f"{self.name}: {what}, {self.n_points} points ({int(self.upper_limit.sum())} upper limits), "
            f"E = {np.nanmin(e):.3g}-{np.nanmax(e):.3g} GeV [{role}]"
        )


#: Row kinds of a :class:`HarmonicPiece`.
VECTOR, AMPLITUDE_ONLY, LIMIT_ONLY = 0, 1, 2


@dataclass(frozen=True)
class HarmonicPiece:
    """One anisotropy dataset as measured first harmonics (amplitude and phase together).

    Per row (length n_points): the published amplitude ``y`` (NaN for a limit-only row),
    its statistical errors ``err_lo``/``err_hi``, the RA ``phase`` [deg] (NaN if not
    published) and its error ``phase_err`` [deg], the upper limit ``y_ul`` (NaN if none)
    at confidence level ``ul_cl``, and the flags of the table.  Each row is one of:

    - ``VECTOR``: amplitude and phase measured -> 2D Gaussian on the harmonic vector
      (:func:`crknee.fit.harmonic.log_like_vector`; its phase marginal is the Rice pdf);
    - ``AMPLITUDE_ONLY``: no phase -> Rice likelihood of the amplitude;
    - ``LIMIT_ONLY``: only an upper limit -> :func:`crknee.fit.harmonic.log_like_upper_limit`.

    A row with a measured value and a limit uses the measurement (the limit is derived
    from it); rows published without any error are left out by the schema
    (``n_without_error`` counts them).  ``convention`` converts the model's dipole vector to the published amplitude.
    """

    name: str
    convention: object
    E_GeV: np.ndarray
    E_lo_GeV: np.ndarray
    E_hi_GeV: np.ndarray
    y: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    phase: np.ndarray
    phase_err: np.ndarray
    y_ul: np.ndarray
    ul_cl: float = 0.99
    err_reaches_zero: np.ndarray = field(default=None)
    phase_err_missing: np.ndarray = field(default=None)
    fit: bool = True
    n_without_error: int = 0
    observable: str = "harmonic"
    species: str | None = None

    def __post_init__(self):
        cols = ("E_GeV", "E_lo_GeV", "E_hi_GeV", "y", "err_lo", "err_hi", "phase", "phase_err", "y_ul")
        arrays = {k: np.atleast_1d(np.asarray(getattr(self, k), dtype=float)) for k in cols}
        n = arrays["E_GeV"].size
        for flag in ("err_reaches_zero", "phase_err_missing"):
            given = getattr(self, flag)
            arrays[flag] = np.zeros(n, bool) if given is None else np.asarray(given, bool).reshape(-1)
        for k, v in arrays.items():
            if v.shape != (n,):
                raise ConfigError(f"piece {self.name!r}: column {k} has shape {v.shape}, expected ({n},)")
            object.__setattr__(self, k, v)
        measured = np.isfinite(self.y)
        limit = ~measured & np.isfinite(self.y_ul)
        if not np.all(measured | limit):
            raise ConfigError(
                f"piece {self.name!r}: row {int(np.argmin(measured | limit))} has neither an "
                "amplitude nor an upper limit"
            )
        if limit.any() and not 0.5 < self.ul_cl < 1.0:
            raise ConfigError(f"piece {self.name!r}: upper_limit_cl must lie in (0.5, 1); got {self.ul_cl!r}")
        kind = np.where(limit, LIMIT_ONLY, np.where(np.isfinite(self.phase), VECTOR, AMPLITUDE_ONLY))
        object.__setattr__(self, "kind", kind)
        try:
            sigma = harmonic.sigma_of_row(
                self.err_lo, self.err_hi, self.y, self.phase_err, self.err_reaches_zero, self.phase_err_missing
            )
        except CrkneeError as exc:
            raise ConfigError(f"piece {self.name!r}: {exc}") from None
        ok = ~measured | (np.isfinite(sigma) & (sigma > 0))
        if not np.all(ok):
            raise ConfigError(f"piece {self.name!r}: row {int(np.argmin(ok))} has no positive error")
        object.__setattr__(self, "sigma", np.where(measured, sigma, np.nan))

    @property
    def n_points(self) -> int:
        return int(self.E_GeV.size)

    @property
    def upper_limit(self) -> np.ndarray:
        return self.kind == LIMIT_ONLY

    def observe(self, prediction) -> np.ndarray:
        """(published amplitude, RA phase [deg]) stacked on a last axis of 2, from dipole
        vectors (..., n_points, 3)."""
        return np.stack([self.convention.amplitude(prediction), self.convention.phase(prediction)], axis=-1)

    def with_values(self, observed) -> HarmonicPiece:
        """The same rows with new (amplitude, phase) values (n_points, 2) (mock data)."""
        obs = np.asarray(observed, dtype=float)
        y = np.where(self.kind == LIMIT_ONLY, np.nan, obs[..., 0])
        phase = np.where(self.kind == VECTOR, np.mod(obs[..., 1], 360.0), np.nan)
        return replace(self, y=y, phase=phase)

    def log_like(self, model) -> np.ndarray:
        """log-likelihood of model (amplitude, phase) (n_walkers, n_points, 2) -> (n_walkers,)."""
        model = np.asarray(model, dtype=float)
        if model.ndim == 2:
            model = model[None]
        a, ph = model[..., 0], model[..., 1]
        terms = np.zeros(a.shape)
        for kind, fn in (
            (VECTOR, lambda m: harmonic.log_like_vector(self.y[m], self.phase[m], self.sigma[m], a[:, m], ph[:, m])),
            (AMPLITUDE_ONLY, lambda m: harmonic.log_like_rice(self.y[m], self.sigma[m], a[:, m])),
            (LIMIT_ONLY, lambda m: harmonic.log_like_upper_limit(self.y_ul[m], self.ul_cl, a[:, m])),
        ):
            m = self.kind == kind
            if m.any():
                terms[:, m] = fn(m)
        return np.sum(terms, axis=-1)

    def describe(self) -> str:
        e = np.where(np.isfinite(self.E_GeV), self.E_GeV, self.E_lo_GeV)
        role = "fit" if self.fit else "check"
        counts = ", ".join(
            f"{int(np.sum(self.kind == k))} {w}"
            for k, w in ((VECTOR, "vectors"), (AMPLITUDE_ONLY, "amplitudes"), (LIMIT_ONLY, "upper limits"))
        )
        left = f"; {self.n_without_error} rows without any error left out" if self.n_without_error else ""
        return (
            f"{self.name}: first harmonic ({self.convention.kind}), {self.n_points} rows ({counts}{left}), "
            f"E = {np.nanmin(e):.3g}-{np.nanmax(e):.3g} GeV [{role}]"
        )


def deviance(piece, model_observed) -> np.ndarray:
    """-2 ln L of ``piece`` at ``model_observed`` (n, n_points[, 2]) relative to the model
    that reproduces each row exactly (a measured amplitude and phase; zero amplitude for a
    limit-only row): a chi^2-like fit quality per dataset (chi^2 itself for Gaussian rows,
    the squared vector distance / sigma^2 for harmonic vectors).  Shape (n,)."""
    model_observed = np.asarray(model_observed, dtype=float)
    if isinstance(piece, HarmonicPiece):
        sat = np.stack([np.where(np.isfinite(piece.y), piece.y, 0.0), np.nan_to_num(piece.phase)], axis=-1)
    else:
        sat = np.where(piece.upper_limit, 0.0, piece.y) if piece.observable != "phase" else piece.y
    return -2.0 * (piece.log_like(model_observed) - piece.log_like(sat[None]))


class LogPosterior:
    """log prior + sum of the fitted pieces' log-likelihoods, vectorised over walkers.

    ``model.bind(pieces)`` must return ``predict(values) -> list`` of one array per piece,
    (n, n_points) fluxes or (n, n_points, 3) dipole vectors (each piece's
    :meth:`~Piece.observe` turns them into what was measured), ``values`` being the
    (n, n_all) parameters in the model's order (plain floats in the declared units).
    Non-finite predictions give -inf.  Picklable, so it can be shipped to process pools and dask workers.
    """

    def __init__(self, parameters, model, pieces):
        self.parameters = parameters
        self.model = model
        self.pieces = [p for p in pieces if p.fit]
        self._predict = model.bind(self.pieces)

    def log_likelihood(self, theta) -> np.ndarray:
        """Sum of the fitted pieces' log-likelihoods at (n, n_free) ``theta``, plus the
        model's own prior term (the W prior, :meth:`KneeSourceModel.log_model_prior`, which
        needs the source evaluated): ln Z of a nested run is then relative to the declared
        (box / Gaussian) priors, times the W prior's unnormalised density."""
        values = self.parameters.full(theta)
        preds, W = self._predict.predict(values) if hasattr(self._predict, "predict") else (self._predict(values), None)
        total = np.zeros(values.shape[0])
        for piece, pred in zip(self.pieces, preds):
            total = total + piece.log_like(piece.observe(pred))
        if W is not None and getattr(self.model, "W_prior", None) is not None:
            total = total + self.model.log_model_prior(W)
        return np.where(np.isfinite(total), total, -np.inf)

    def __call__(self, theta) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        lp = self.parameters.log_prior(theta)
        ok = np.isfinite(lp)
        if ok.any():
            lp[ok] = lp[ok] + self.log_likelihood(theta[ok])
        return lp

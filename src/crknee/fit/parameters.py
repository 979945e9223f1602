"""Declared fit parameters: value, bounds and prior, read from the ``[fit.parameters]`` config.

Each parameter is one table ``{value, min, max, prior, ...}`` (see :mod:`crknee.fit.schema`):

- ``prior = "uniform"``: flat density on [min, max];
- ``prior = "gaussian"``: normal density N(mu, sigma) truncated to [min, max];
- ``prior = "fixed"``: not sampled; the model always receives ``value``.

``periodic = true`` (uniform prior only) makes [min, max) one period of a circle, e.g.
Galactic longitude on [-180, 180): the prior is uniform on the circle, there is no wall,
and every value is wrapped into [min, max) (:meth:`ParameterSet.wrap`) before it reaches
the model or a summary.

``value`` is where the walkers start (``sampler.init = "ball"``) and the truth of
``--mock``.  The log-prior is vectorised over walkers: it takes an (n, n_free) float
array in the parameters' declared units and returns an (n,) array, -inf outside bounds
(a periodic coordinate has no outside: it is wrapped).  :meth:`ParameterSet.prior_transform`
maps the unit cube onto the prior (nested sampling, :mod:`crknee.fit.nested`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import truncnorm

from crknee.errors import ConfigError

PRIORS = ("uniform", "gaussian", "fixed")
_PARAM_KEYS = {"value", "min", "max", "prior", "mu", "sigma", "periodic"}
#: Central probability of the "68 %" interval, Phi(1) - Phi(-1).
ONE_SIGMA = 0.6826894921370859


@dataclass(frozen=True)
class Parameter:
    """One parameter: name (with its unit suffix), unit string, start value, bounds, prior;
    ``periodic``: [min, max) is one period of a circle (uniform prior)."""

    name: str
    unit: str
    value: float
    min: float
    max: float
    prior: str = "uniform"
    mu: float = float("nan")
    sigma: float = float("nan")
    periodic: bool = False

    @property
    def free(self) -> bool:
        return self.prior != "fixed"

    @property
    def period(self) -> float:
        return self.max - self.min

    def prior_interval(self) -> tuple[float, float]:
        """Central 68.27 % interval of the prior (16th, 84th percentiles)."""
        q = [(1.0 - ONE_SIGMA) / 2.0, (1.0 + ONE_SIGMA) / 2.0]
        if self.prior == "gaussian":
            a, b = (self.min - self.mu) / self.sigma, (self.max - self.mu) / self.sigma
            lo, hi = truncnorm.ppf(q, a, b, loc=self.mu, scale=self.sigma)
            return float(lo), float(hi)
        return tuple(float(self.min + p * (self.max - self.min)) for p in q)

    def sample_prior(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.prior == "gaussian":
            a, b = (self.min - self.mu) / self.sigma, (self.max - self.mu) / self.sigma
            return truncnorm.rvs(a, b, loc=self.mu, scale=self.sigma, size=n, random_state=rng)
        return rng.uniform(self.min, self.max, size=n)


def _number(where: str, key: str, spec: dict) -> float:
    try:
        v = float(spec[key])
    except KeyError:
        raise ConfigError(f"{where}: missing key {key!r}") from None
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key} must be a number; got {spec[key]!r}") from None
    if not np.isfinite(v):
        raise ConfigError(f"{where}.{key} must be finite; got {v!r}")
    return v


def parameter_from_config(name: str, unit: str, spec: dict, where: str = "fit.parameters") -> Parameter:
    """Validate one ``[fit.parameters.<name>]`` table and build the :class:`Parameter`."""
    where = f"{where}.{name}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} must be a table {{value, min, max, prior}}; got {spec!r}")
    unknown = sorted(set(spec) - _PARAM_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {sorted(_PARAM_KEYS)})")
    prior = spec.get("prior", "uniform")
    if prior not in PRIORS:
        raise ConfigError(f"{where}.prior must be one of {PRIORS}; got {prior!r}")
    value = _number(where, "value", spec)
    lo, hi = _number(where, "min", spec), _number(where, "max", spec)
    if not lo < hi:
        raise ConfigError(f"{where}: min ({lo!r}) must be < max ({hi!r})")
    if not lo <= value <= hi:
        raise ConfigError(f"{where}.value {value!r} lies outside [min, max] = [{lo!r}, {hi!r}]")
    mu = sigma = float("nan")
    if prior == "gaussian":
        mu, sigma = _number(where, "mu", spec), _number(where, "sigma", spec)
        if sigma <= 0:
            raise ConfigError(f"{where}.sigma must be > 0; got {sigma!r}")
    elif "mu" in spec or "sigma" in spec:
        raise ConfigError(f"{where}: mu/sigma are only allowed with prior = 'gaussian' (prior is {prior!r})")
    periodic = spec.get("periodic", False)
    if not isinstance(periodic, bool):
        raise ConfigError(f"{where}.periodic must be true or false; got {periodic!r}")
    if periodic and prior == "gaussian":
        raise ConfigError(
            f"{where}: a periodic parameter takes prior = 'uniform' (the circle's) or 'fixed'; got 'gaussian'"
        )
    if periodic:
        value = lo + float(np.mod(value - lo, hi - lo))  # max is min, one period on
    return Parameter(name, unit, value, lo, hi, prior, mu, sigma, periodic)


class ParameterSet:
    """The ordered parameters of a model; the sampled vector holds the free ones only."""

    def __init__(self, parameters: list[Parameter]):
        self.parameters = list(parameters)
        self.free = [p for p in self.parameters if p.free]
        if not self.free:
            raise ConfigError("fit.parameters: every parameter is fixed; nothing to sample")
        self.names = [p.name for p in self.parameters]
        self.free_names = [p.name for p in self.free]
        self._free_index = np.array([i for i, p in enumerate(self.parameters) if p.free])
        self._lo = np.array([p.min for p in self.free])
        self._hi = np.array([p.max for p in self.free])
        g = np.array([p.prior == "gaussian" for p in self.free])
        self._gauss = np.flatnonzero(g)
        self._mu = np.array([p.mu for p in self.free])[g]
        self._sigma = np.array([p.sigma for p in self.free])[g]
        self._defaults = np.array([p.value for p in self.parameters])
        self.periodic_index = np.flatnonzero([p.periodic for p in self.free])
        self._bounded = np.array([not p.periodic for p in self.free])
        # truncated-normal CDF at the bounds of the Gaussian priors (prior transform)
        a, b = (self._lo[g] - self._mu) / self._sigma, (self._hi[g] - self._mu) / self._sigma
        self._upper_tail = a > 0  # both bounds above mu: invert from the upper tail (precision)
        self._cdf_lo = np.where(self._upper_tail, ndtr(-b), ndtr(a))
        self._cdf_hi = np.where(self._upper_tail, ndtr(-a), ndtr(b))

    @classmethod
    def from_config(cls, section: dict, units: dict[str, str], where: str = "fit.parameters"):
        """Build from ``{name: {value, min, max, prior, ...}}``; ``units`` = the model's
        parameters (name -> unit) in its order; every one must be declared, no other."""
        if not isinstance(section, dict):
            raise ConfigError(f"{where} must be a table of parameters; got {section!r}")
        unknown = [k for k in section if k not in units]
        if unknown:
            raise ConfigError(f"{where}: unknown parameter {unknown[0]!r} (the model has {list(units)})")
        missing = [k for k in units if k not in section]
        if missing:
            raise ConfigError(f"{where}: parameter {missing[0]!r} is not declared (give value/min/max/prior)")
        return cls([parameter_from_config(n, u, section[n], where) for n, u in units.items()])

    @property
    def ndim(self) -> int:
        return len(self.free)

    def full(self, theta) -> np.ndarray:
        """(n, n_free) sampled values -> (n, n_all) values of all parameters in model order,
        periodic ones wrapped into [min, max)."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        out = np.broadcast_to(self._defaults, (theta.shape[0], len(self.parameters))).copy()
        out[:, self._free_index] = self.wrap(theta)
        return out

    def wrap(self, theta) -> np.ndarray:
        """A copy of (n, n_free) ``theta`` with the periodic columns wrapped into [min, max)."""
        theta = np.array(theta, dtype=float, ndmin=2)
        if self.periodic_index.size:
            j = self.periodic_index
            lo, period = self._lo[j], self._hi[j] - self._lo[j]
            theta[:, j] = lo + np.mod(theta[:, j] - lo, period)
        return theta

    def log_prior(self, theta) -> np.ndarray:
        """Vectorised log prior density (up to a constant) of (n, n_free) points; -inf outside
        (periodic coordinates are never outside)."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        inside = np.all((theta >= self._lo) & (theta <= self._hi) | ~self._bounded, axis=1)
        inside &= np.all(np.isfinite(theta), axis=1)
        lp = np.where(inside, 0.0, -np.inf)
        if self._gauss.size:
            z = (theta[:, self._gauss] - self._mu) / self._sigma
            lp = lp - 0.5 * np.sum(z * z, axis=1)
        return lp

    def truth(self) -> np.ndarray:
        """The declared values of the free parameters (start point / mock truth)."""
        return np.array([p.value for p in self.free])

    def initial(self, rng: np.random.Generator, nwalkers: int, mode: str = "ball", width: float = 0.01) -> np.ndarray:
        """Walker start positions (nwalkers, n_free): ``"prior"`` draws from the prior;
        ``"ball"`` scatters uniformly by +-``width`` x (max - min) around ``value``,
        clipped inside the bounds (wrapped round the circle for a periodic parameter)."""
        if mode == "prior":
            return np.column_stack([p.sample_prior(rng, nwalkers) for p in self.free])
        span = (self._hi - self._lo) * width
        x = self.truth() + rng.uniform(-1.0, 1.0, size=(nwalkers, self.ndim)) * span
        eps = 1e-9 * (self._hi - self._lo)
        x = np.where(self._bounded, np.clip(x, self._lo + eps, self._hi - eps), x)
        return self.wrap(x)

    def prior_transform(self, u) -> np.ndarray:
        """Map points of the unit cube, (n, n_free) or (n_free,), onto the prior (the inverse
        CDF of each parameter's prior): uniform ``min + u (max - min)`` (wrapped when
        periodic, so u outside [0, 1) is allowed there); Gaussian truncated to [min, max]
        ``mu + sigma Phi^-1(Phi(a) + u (Phi(b) - Phi(a)))`` with a, b the standardised
        bounds (inverted from the upper tail when a > 0, for precision)."""
        u = np.asarray(u, dtype=float)
        theta = self._lo + u * (self._hi - self._lo)
        if self._gauss.size:
            ug = u[..., self._gauss]
            p = np.where(
                self._upper_tail,
                self._cdf_hi - ug * (self._cdf_hi - self._cdf_lo),
                self._cdf_lo + ug * (self._cdf_hi - self._cdf_lo),
            )
            z = np.where(self._upper_tail, -ndtri(p), ndtri(p))
            theta[..., self._gauss] = np.clip(self._mu + self._sigma * z, self._lo[self._gauss], self._hi[self._gauss])
        if self.periodic_index.size:
            j = self.periodic_index
            theta[..., j] = self._lo[j] + np.mod(theta[..., j] - self._lo[j], self._hi[j] - self._lo[j])
        return theta

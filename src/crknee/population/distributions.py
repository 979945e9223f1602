"""Parameter distributions of a source population (one per ``[population.<class>]`` key).

A distribution is declared in TOML as an inline table (``{dist = "fixed", value = 1e50}``,
``{dist = "loguniform", low = 1e38, high = 2e39}``, ``{dist = "lognormal", median = 2e5,
sigma_dex = 0.3}``, ``{dist = "uniform", low = 2.2, high = 2.5}``).  Each gives random
draws (``sample``) and a Gauss quadrature of its own expectation (``nodes``), so that the
ensemble mean of the population is computed exactly (crknee.population.continuum) rather
than by Monte Carlo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.errors import ConfigError

#: Distribution kinds and their parameters.
KINDS = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "lognormal": ("median", "sigma_dex"),
}
_GL = np.polynomial.legendre.leggauss(12)
_GH = np.polynomial.hermite_e.hermegauss(16)


@dataclass(frozen=True)
class Distribution:
    """One parameter distribution: ``kind`` in :data:`KINDS` and its parameters."""

    kind: str
    params: tuple

    @classmethod
    def from_toml(cls, key: str, value, positive: bool = True) -> Distribution:
        """Parse ``value`` (a number = fixed, or an inline table); ConfigError names ``key``."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = {"dist": "fixed", "value": value}
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a number or a table {{dist = ..., ...}}; got {value!r}")
        kind = value.get("dist")
        if kind not in KINDS:
            raise ConfigError(f"{key}.dist: {kind!r} is not one of {', '.join(KINDS)}")
        names = KINDS[kind]
        extra = sorted(set(value) - set(names) - {"dist"})
        if extra:
            raise ConfigError(f"{key}.{extra[0]}: unknown key for dist = {kind!r} (expected {', '.join(names)})")
        params = []
        for name in names:
            v = value.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ConfigError(f"{key}.{name}: expected a finite number; got {v!r}")
            params.append(float(v))
        p = dict(zip(names, params))
        if kind in ("uniform", "loguniform") and not p["low"] < p["high"]:
            raise ConfigError(f"{key}: needs low < high; got low={p['low']!r}, high={p['high']!r}")
        if kind == "lognormal" and p["sigma_dex"] <= 0:
            raise ConfigError(f"{key}.sigma_dex: must be > 0; got {p['sigma_dex']!r}")
        lowest = {
            "fixed": p.get("value"),
            "uniform": p.get("low"),
            "loguniform": p.get("low"),
            "lognormal": p.get("median"),
        }[kind]
        if (positive or kind in ("loguniform", "lognormal")) and lowest <= 0:
            raise ConfigError(f"{key}: values must be > 0; got {lowest!r}")
        return cls(kind, tuple(params))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws."""
        k, p = self.kind, self.params
        if k == "fixed":
            return np.full(n, p[0])
        if k == "uniform":
            return rng.uniform(p[0], p[1], n)
        if k == "loguniform":
            return np.exp(rng.uniform(np.log(p[0]), np.log(p[1]), n))
        return p[0] * 10.0 ** (p[1] * rng.standard_normal(n))

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, w): Gauss rule with sum(w f(x)) = E[f] for smooth f (12-point Legendre for
        the uniform kinds, 16-point Hermite for the lognormal; weights sum to 1)."""
        k, p = self.kind, self.params
        if k == "fixed":
            return np.array([p[0]]), np.array([1.0])
        if k in ("uniform", "loguniform"):
            lo, hi = (p[0], p[1]) if k == "uniform" else (np.log(p[0]), np.log(p[1]))
            x = lo + 0.5 * (hi - lo) * (_GL[0] + 1.0)
            return (x if k == "uniform" else np.exp(x)), 0.5 * _GL[1]
        x, w = _GH
        return p[0] * 10.0 ** (p[1] * x), w / w.sum()

    def mean(self) -> float:
        """E[x] (exact)."""
        k, p = self.kind, self.params
        if k == "fixed":
            return p[0]
        if k == "uniform":
            return 0.5 * (p[0] + p[1])
        if k == "loguniform":
            return (p[1] - p[0]) / np.log(p[1] / p[0])
        return p[0] * np.exp(0.5 * (p[1] * np.log(10.0)) ** 2)

    def upper(self) -> float:
        """Largest value taken (the lognormal: its 6-sigma point, P beyond = 1e-9)."""
        if self.kind == "lognormal":
            return self.params[0] * 10.0 ** (6.0 * self.params[1])
        return self.params[-1]

    def survival(self, x) -> np.ndarray:
        """P(X > x) (exact)."""
        from scipy.special import ndtr

        x = np.asarray(x, dtype=float)
        k, p = self.kind, self.params
        if k == "fixed":
            return (x < p[0]).astype(float)
        if k == "uniform":
            return np.clip((p[1] - x) / (p[1] - p[0]), 0.0, 1.0)
        if k == "loguniform":
            lx = np.log(np.maximum(x, 1e-300))
            return np.clip((np.log(p[1]) - lx) / np.log(p[1] / p[0]), 0.0, 1.0)
        return ndtr(-(np.log10(np.maximum(x, 1e-300) / p[0])) / p[1])

    def breaks(self) -> tuple:
        """Points where the survival function has a kink (for quadrature panels)."""
        return {"fixed": (self.params[0],), "uniform": self.params, "loguniform": self.params}.get(self.kind, ())

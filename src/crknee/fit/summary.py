"""Posterior summary: median, 16th/84th percentiles and MAP, with a prior-dominance flag
and a prior-edge flag.

The chain's burn-in is ``2 x max(tau)`` steps and it is thinned by ``max(1, min(tau)/2)``
(emcee documentation, "Saving & monitoring progress"); for a chain too short to estimate
tau, the first half is discarded.  A parameter is *prior-dominated* when the width of its
posterior 68 % interval is larger than ``ratio`` x the width of its prior 68 % interval:
the data then barely narrow the prior (for a flat prior, the posterior of an
unconstrained parameter reproduces the prior's width; ratio 1 means no information).

A parameter is *at a prior edge* (``at_prior_edge``) when its posterior is piled against
a bound: the posterior density in the last bin of width h next to ``min`` or ``max`` is
at least ``edge_ratio`` (default 0.5) of its maximum density in bins of the same width
aligned on that bound, h = min(5 % of the prior range, a quarter of the 68 % interval).
For a Gaussian posterior cut by a bound this flags a bound within ~1.4 sigma of the peak
(point density there >~ 0.4 of the maximum; tested): the bound then sets the interval and
the median, not the data (d or W at their upper edges).  A flat posterior is flagged at
both ends (``edge = "min+max"``); one that has fallen to ~0.2 of its peak at the bound
(1.75 sigma) is not.  Periodic parameters have no edge.

Periodic parameters (:mod:`crknee.fit.parameters`) are summarised on the circle: the
samples are unwrapped onto the period centred on their circular mean (the cut lies
opposite it, where the posterior is lowest for a unimodal one), the percentiles taken
there and wrapped back into [min, max); ``minus`` / ``plus`` (median - p16, p84 - median)
are measured along the circle, so p16 > p84 means the interval straddles the cut at
``min`` = ``max``.
"""

from __future__ import annotations

import numpy as np
from astropy.table import QTable

from crknee.fit.parameters import ONE_SIGMA

_Q = [50.0, 50.0 * (1.0 - ONE_SIGMA), 50.0 * (1.0 + ONE_SIGMA)]


def burn_thin(iterations: int, tau) -> tuple[int, int]:
    """(discard, thin) for a chain of ``iterations`` steps with autocorrelation times ``tau``."""
    tau = np.asarray(tau, dtype=float)
    if not np.all(np.isfinite(tau)) or 2 * np.max(tau) >= iterations:
        return iterations // 2, 1
    return int(2 * np.max(tau)), max(1, int(np.min(tau) / 2))


def read_chain(path, tau=None):
    """Flat samples (n, ndim), their log-posteriors (n,) and the parameter names of an
    HDF5 chain written by :mod:`crknee.fit.sampler`, after burn-in and thinning."""
    from crknee.fit.sampler import ResumableHDFBackend

    backend = ResumableHDFBackend(str(path), name="mcmc", read_only=True)
    it = backend.iteration
    if tau is None:
        tau = backend.get_autocorr_time(tol=0) if it > 1 else [np.nan]
    discard, thin = burn_thin(it, tau)
    chain = backend.get_chain(discard=discard, thin=thin, flat=True)
    logp = backend.get_log_prob(discard=discard, thin=thin, flat=True)
    with backend.open() as f:
        names = [str(s) for s in f["mcmc"].attrs["parameter_names"]]
    return chain, logp, names


#: Posterior density at a bound, as a fraction of the maximum, above which the bound is an edge.
EDGE_RATIO = 0.5
#: Edge bin width as a fraction of the prior range (upper limit of h).
EDGE_BIN_FRACTION = 0.05


def circular_mean(x, lo: float, period: float) -> float:
    """Circular mean of values ``x`` on the circle [lo, lo + period), in that range."""
    phi = 2.0 * np.pi * (np.asarray(x, dtype=float) - lo) / period
    mean = np.arctan2(np.mean(np.sin(phi)), np.mean(np.cos(phi)))
    return float(lo + np.mod(mean, 2.0 * np.pi) * period / (2.0 * np.pi))


def unwrap_about_mean(x, lo: float, period: float) -> tuple[np.ndarray, float]:
    """``x`` moved by whole periods into [m - period/2, m + period/2), m the circular mean;
    returns (unwrapped values, m)."""
    m = circular_mean(x, lo, period)
    return m - 0.5 * period + np.mod(np.asarray(x, dtype=float) - m + 0.5 * period, period), m


def edge_density_ratios(x, lo: float, hi: float, p16: float, p84: float) -> tuple[float, float]:
    """(lower, upper): posterior density in the bin of width h next to ``lo`` / ``hi``
    over the maximum density in bins of width h aligned on that bound,
    h = min(EDGE_BIN_FRACTION x (hi - lo), (p84 - p16) / 4)."""
    x = np.asarray(x, dtype=float)
    h = min(EDGE_BIN_FRACTION * (hi - lo), 0.25 * (p84 - p16))
    if not h > 0:  # every sample at one value
        return float(np.all(x <= lo)), float(np.all(x >= hi))
    k = np.floor((x - lo) / h)  # bins counted from the lower bound
    lo_counts = np.bincount(np.clip(k, 0, None).astype(int))
    k = np.floor((hi - x) / h)  # and from the upper bound
    hi_counts = np.bincount(np.clip(k, 0, None).astype(int))
    return float(lo_counts[0] / lo_counts.max()), float(hi_counts[0] / hi_counts.max())


def posterior_table(samples, log_prob, parameters, ratio: float = 0.7, edge_ratio: float = EDGE_RATIO) -> QTable:
    """One row per free parameter: unit, median, p16, p84, minus, plus, MAP (the sample of
    highest log-posterior), prior p16/p84, width ratio, the prior-dominated flag, the
    prior-edge flag with the bound(s) it names (``edge``: "min", "max", "min+max" or "none")
    and the larger of the two edge density ratios.  Periodic parameters are summarised on
    the circle (module docstring)."""
    samples = parameters.wrap(samples)
    best = samples[int(np.argmax(log_prob))]
    rows = []
    for i, p in enumerate(parameters.free):
        x = samples[:, i]
        if p.periodic:
            x, _ = unwrap_about_mean(x, p.min, p.period)
        med, p16, p84 = np.percentile(x, _Q)
        plo, phi = p.prior_interval()
        w = (p84 - p16) / (phi - plo)
        if p.periodic:
            r_lo = r_hi = 0.0
            med, p16, p84 = (p.min + np.mod(v - p.min, p.period) for v in (med, p16, p84))
            minus, plus = np.mod(med - p16, p.period), np.mod(p84 - med, p.period)
        else:
            r_lo, r_hi = edge_density_ratios(x, p.min, p.max, p16, p84)
            minus, plus = med - p16, p84 - med
        edge = "+".join(b for b, r in (("min", r_lo), ("max", r_hi)) if r >= edge_ratio) or "none"
        rows.append(
            (
                p.name,
                p.unit,
                med,
                p16,
                p84,
                minus,
                plus,
                best[i],
                plo,
                phi,
                w,
                bool(w > ratio),
                edge != "none",
                edge,
                max(r_lo, r_hi),
            )
        )
    names = (
        "parameter",
        "unit",
        "median",
        "p16",
        "p84",
        "minus",
        "plus",
        "map",
        "prior_p16",
        "prior_p84",
        "width_ratio",
        "prior_dominated",
        "at_prior_edge",
        "edge",
        "edge_density_ratio",
    )
    table = QTable(rows=rows, names=names)
    table.meta["prior_dominated_ratio"] = ratio
    table.meta["edge_ratio"] = edge_ratio
    table.meta["n_samples"] = int(samples.shape[0])
    return table

"""Posterior summary: median, 16th/84th percentiles and MAP, with a prior-dominance flag.

The chain's burn-in is ``2 x max(tau)`` steps and it is thinned by ``max(1, min(tau)/2)``
(emcee documentation, "Saving & monitoring progress"); for a chain too short to estimate
tau, the first half is discarded.  A parameter is *prior-dominated* when the width of its
posterior 68 % interval is larger than ``ratio`` x the width of its prior 68 % interval:
the data then barely narrow the prior (for a flat prior, the posterior of an
unconstrained parameter reproduces the prior's width; ratio 1 means no information).
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


def posterior_table(samples, log_prob, parameters, ratio: float = 0.7) -> QTable:
    """One row per free parameter: unit, median, p16, p84, MAP (the sample of highest
    log-posterior), prior p16/p84, width ratio and the prior-dominated flag."""
    samples = np.asarray(samples, dtype=float)
    med, p16, p84 = np.percentile(samples, _Q, axis=0)
    best = samples[int(np.argmax(log_prob))]
    rows = []
    for i, p in enumerate(parameters.free):
        plo, phi = p.prior_interval()
        w = (p84[i] - p16[i]) / (phi - plo)
        rows.append((p.name, p.unit, med[i], p16[i], p84[i], best[i], plo, phi, w, bool(w > ratio)))
    names = ("parameter", "unit", "median", "p16", "p84", "map", "prior_p16", "prior_p84", "width_ratio",
             "prior_dominated")
    table = QTable(rows=rows, names=names)
    table.meta["prior_dominated_ratio"] = ratio
    table.meta["n_samples"] = int(samples.shape[0])
    return table

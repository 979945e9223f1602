"""The sampler's start point: the maximum a posteriori by a bounded local optimiser.

Starting emcee's walkers in a small ball around the MAP (instead of around the config's
``value``) removes most of the burn-in.  :func:`maximum_a_posteriori` runs
:func:`scipy.optimize.minimize` (Powell, within the prior box; Powell 1964, Comput. J. 7,
155) on -ln posterior from the declared values, with at most ``max_evaluations``.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import minimize

from crknee.fit.parameters import ParameterSet


def maximum_a_posteriori(log_post, parameters: ParameterSet, max_evaluations: int = 2000):
    """(theta_MAP (n_free,), ln posterior there) from the declared values."""
    lo = np.array([p.min for p in parameters.free])
    hi = np.array([p.max for p in parameters.free])
    span = hi - lo

    def f(z):
        v = log_post((lo + z * span)[None])[0]
        return -v if np.isfinite(v) else 1e300

    z0 = (parameters.truth() - lo) / span
    res = minimize(f, z0, method="Powell", bounds=[(0.0, 1.0)] * len(z0),
                   options={"maxfev": int(max_evaluations), "xtol": 1e-4, "ftol": 1e-6})
    best = lo + res.x * span
    return best, -float(res.fun)


def centred_on(parameters: ParameterSet, theta) -> ParameterSet:
    """The same parameters with the free ones' ``value`` (the walkers' centre) at ``theta``,
    kept a hair inside the bounds."""
    out, k = [], 0
    for p in parameters.parameters:
        if p.free:
            eps = 1e-6 * (p.max - p.min)
            out.append(replace(p, value=float(np.clip(theta[k], p.min + eps, p.max - eps))))
            k += 1
        else:
            out.append(p)
    return ParameterSet(out)

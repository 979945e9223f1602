"""The sampler's start point: the maximum a posteriori by a bounded quasi-Newton search.

Starting emcee's walkers near the MAP (instead of around the config's ``value``) removes
most of the burn-in.  :func:`maximum_a_posteriori` runs L-BFGS-B (Byrd, Lu, Nocedal & Zhu
1995, SIAM J. Sci. Comput. 16, 1190; :func:`scipy.optimize.minimize`) on -ln posterior in
units of each prior span, within the prior box, from the declared values; the gradient is
a forward difference (step 1e-5 of the span, backward at the upper bound) whose n + 1
points go to the vectorised ``log_post`` as one batch (so a pool evaluates them in
parallel).  At most ``max_evaluations`` posterior evaluations.  (Powell's derivative-free
search, used before, stopped at ln p = -247.7 on the default problem where this reaches
-221.6: docs/propagation_fit.md.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import minimize

from crknee.fit.parameters import ParameterSet

#: Forward-difference step of the gradient, in units of the prior span.
GRADIENT_STEP = 1e-5


def maximum_a_posteriori(log_post, parameters: ParameterSet, max_evaluations: int = 2000):
    """(theta_MAP (n_free,), ln posterior there) from the declared values."""
    lo = np.array([p.min for p in parameters.free])
    hi = np.array([p.max for p in parameters.free])
    span = hi - lo
    n = lo.size

    def f_and_grad(z):
        z = np.clip(z, 0.0, 1.0)
        step = np.where(z + GRADIENT_STEP <= 1.0, GRADIENT_STEP, -GRADIENT_STEP)
        v = log_post(lo + np.vstack([z, z + np.diag(step)]) * span)
        f = np.where(np.isfinite(v), -v, 1e300)
        return f[0], (f[1:] - f[0]) / step

    z0 = (parameters.truth() - lo) / span
    res = minimize(
        f_and_grad,
        z0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * n,
        options={"maxfun": max(int(max_evaluations) // (n + 1), 2), "ftol": 1e-10, "gtol": 1e-6},
    )
    best = lo + np.clip(res.x, 0.0, 1.0) * span
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

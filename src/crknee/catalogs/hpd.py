"""Highest-posterior-density (HPD) regions of a source position on the Galactic plane.

The posterior samples (l, d) are placed on the plane (crknee.catalogs.frame) and smoothed
with a 2D Gaussian kernel density estimate (scipy.stats.gaussian_kde, Scott's rule
bandwidth).  The HPD region of mass p is {f >= t_p}, and t_p is the (1 - p) quantile of
f evaluated at the samples themselves (a sample-based estimate of P[f(X) >= t] = p that
needs no grid).  Two conventions name the "1 sigma" and "2 sigma" regions:

* ``"1d"``: p = 68.27 %, 95.45 % (erf(n / sqrt 2)), the mass of a 1D +-n sigma interval;
* ``"2d"``: p = 39.35 %, 86.47 % (1 - exp(-n^2 / 2)), the mass inside the n sigma ellipse
  of a 2D Gaussian (corner.py's default contour levels).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from scipy.special import erf
from scipy.stats import gaussian_kde

from crknee.catalogs.frame import plane_xy_kpc
from crknee.errors import InputError
from crknee.units import value_in

#: Probability mass of the 1 sigma and 2 sigma HPD regions in each convention.
HPD_CONVENTIONS = {
    "1d": (float(erf(1 / np.sqrt(2))), float(erf(2 / np.sqrt(2)))),
    "2d": (float(1 - np.exp(-0.5)), float(1 - np.exp(-2.0))),
}
#: Fewest samples accepted for a 2D KDE.
MIN_SAMPLES = 50
#: Samples above this number are thinned (every k-th) before the KDE: cost ~ n^2.
MAX_SAMPLES = 4000


class HPDRegion:
    """2D KDE of posterior samples of (l, d) on the Galactic plane and its HPD levels.

    ``l``, ``d``: angle and length Quantities, or floats in deg and kpc (one entry per
    sample; b = 0 assumed).
    ``convention``: key of :data:`HPD_CONVENTIONS` (default "2d", docs/catalogs.md).  Attributes: ``masses`` (the two
    probability masses), ``thresholds_kpc2`` (density thresholds [kpc^-2] of the 1 sigma
    and 2 sigma regions), ``n_samples`` (after thinning), ``kde``.
    """

    def __init__(self, l, d, *, convention: str = "2d", max_samples: int = MAX_SAMPLES):
        if convention not in HPD_CONVENTIONS:
            raise InputError(f"unknown HPD convention {convention!r}; use one of {sorted(HPD_CONVENTIONS)}")
        l_deg = np.ravel(value_in("l", l, "deg", "finite-or-nan")).astype(float)
        d_kpc = np.ravel(value_in("d", d, "kpc", "finite-or-nan")).astype(float)
        if l_deg.shape != d_kpc.shape:
            raise InputError(f"l and d sample counts differ: {l_deg.size} vs {d_kpc.size}")
        if l_deg.size < MIN_SAMPLES:
            raise InputError(f"need at least {MIN_SAMPLES} posterior samples; got {l_deg.size}")
        bad = ~np.isfinite(l_deg) | ~np.isfinite(d_kpc) | (d_kpc <= 0)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"posterior sample {i} is not finite with d > 0: l={l_deg[i]!r} deg, d={d_kpc[i]!r} kpc")
        step = int(np.ceil(l_deg.size / max_samples))
        x, y = plane_xy_kpc(l_deg[::step], d_kpc[::step])
        if np.linalg.matrix_rank(np.cov(np.vstack([x, y]))) < 2:
            raise InputError("posterior samples are degenerate on the plane (all on one line or point)")
        self.convention = convention
        self.masses = HPD_CONVENTIONS[convention]
        self.samples_kpc = np.vstack([x, y])
        self.n_samples = x.size
        self.kde = gaussian_kde(self.samples_kpc)
        at_samples = self.kde(self.samples_kpc)
        self.thresholds_kpc2 = tuple(float(np.quantile(at_samples, 1 - m)) for m in self.masses)

    def density_kpc2(self, x_kpc, y_kpc) -> np.ndarray:
        """Float kernel: posterior density [kpc^-2] at plane positions (any equal shapes)."""
        x, y = np.broadcast_arrays(np.asarray(x_kpc, float), np.asarray(y_kpc, float))
        out = np.zeros(x.shape)
        ok = np.isfinite(x) & np.isfinite(y)
        if np.any(ok):
            out[ok] = self.kde(np.vstack([x[ok], y[ok]]))
        return out

    def density(self, x, y):
        """Posterior density at plane positions (length Quantities) as kpc^-2."""
        return self.density_kpc2(u.Quantity(x).to_value(u.kpc), u.Quantity(y).to_value(u.kpc)) / u.kpc**2

    def grid(self, n: int = 160, pad_sigma: float = 4.0):
        """Density on a regular grid covering the samples +- ``pad_sigma`` kernel widths.

        Returns (x_kpc, y_kpc, density_kpc2[n_y, n_x]), for contours and line-of-sight scans.
        """
        width = pad_sigma * np.sqrt(np.diag(self.kde.covariance))
        lo = self.samples_kpc.min(axis=1) - width
        hi = self.samples_kpc.max(axis=1) + width
        xs, ys = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
        xx, yy = np.meshgrid(xs, ys)
        return xs, ys, self.density_kpc2(xx, yy)

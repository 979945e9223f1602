"""Distance probability of a catalogued binary: a two-piece lognormal.

Catalogue distances of X-ray binaries are mostly Gaia geometric distances (Bailer-Jones
et al. 2021, AJ 161, 147) quoted as a median with a 16th-84th percentile interval
[d_lo, d_hi] (Neumann et al. 2023 give the interval as Low_Dist/High_Dist; see
docs/catalogs.md).  Such intervals are asymmetric and the distance is positive, so the
pdf used here is Gaussian in ln d with different widths on each side of the median:

    ln d = ln d_med + z * sigma_lo  (z < 0),    ln d = ln d_med + z * sigma_hi  (z >= 0),
    sigma_lo = ln(d_med / d_lo),    sigma_hi = ln(d_hi / d_med),    z ~ N(0, 1),

which reproduces the median and both percentiles exactly.  A row that gives only the
interval (no central value) uses its geometric mid-point sqrt(d_lo d_hi) as median.
The pdf is integrated by quadrature on ``n`` equal-probability nodes (the inverse CDF at
the mid-points (k + 1/2)/n of n equal-probability bins), so a probability computed as the
fraction of nodes in a region is resolved to 1/n and needs no random numbers.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

#: Distance-information flags of a binary (column ``distance_flag``).
FLAG_INTERVAL = "interval"  # median with a 16-84 % interval
FLAG_RANGE = "range only"  # interval without central value
FLAG_POINT = "no uncertainty"  # central value only: treated as exact
FLAG_NONE = "no distance"


def distance_flag(d_kpc, lo_kpc, hi_kpc) -> np.ndarray:
    """Flag of each row from its (median, low, high) distances [kpc], NaN = not given."""
    d, lo, hi = (np.asarray(a, dtype=float) for a in (d_kpc, lo_kpc, hi_kpc))
    has_d, has_range = np.isfinite(d), np.isfinite(lo) & np.isfinite(hi)
    return np.where(
        has_d & has_range,
        FLAG_INTERVAL,
        np.where(has_range, FLAG_RANGE, np.where(has_d, FLAG_POINT, FLAG_NONE)),
    )


def median_kpc(d_kpc, lo_kpc, hi_kpc) -> np.ndarray:
    """Median of the distance pdf [kpc]: the catalogue value, else sqrt(d_lo d_hi), else NaN."""
    d, lo, hi = (np.asarray(a, dtype=float) for a in (d_kpc, lo_kpc, hi_kpc))
    return np.where(np.isfinite(d), d, np.sqrt(lo * hi))


def distance_nodes_kpc(d_kpc, lo_kpc, hi_kpc, n: int) -> np.ndarray:
    """Equal-probability quadrature nodes [kpc] of each row's pdf, shape (rows, n).

    Rows flagged "no uncertainty" repeat their distance; "no distance" rows are NaN.
    A missing single bound (only d_lo or only d_hi) is mirrored in ln d from the other.
    """
    d, lo, hi = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (d_kpc, lo_kpc, hi_kpc))
    med = median_kpc(d, lo, hi)
    s_lo = np.log(med / lo)
    s_hi = np.log(hi / med)
    s_lo = np.where(np.isfinite(s_lo), s_lo, s_hi)
    s_hi = np.where(np.isfinite(s_hi), s_hi, s_lo)
    s_lo, s_hi = np.nan_to_num(s_lo), np.nan_to_num(s_hi)  # point distances
    z = ndtri((np.arange(n) + 0.5) / n)
    sigma = np.where(z < 0, s_lo[:, None], s_hi[:, None])
    return med[:, None] * np.exp(z[None, :] * sigma)

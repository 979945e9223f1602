"""Cross-match of a source-position posterior with the X-ray binaries (paper Sec. 3).

For each binary with |b| < ``max_b`` the table gives its posterior density at its median
distance (ranking), the probability that it lies inside the 1 sigma and 2 sigma HPD
regions given its distance pdf (crknee.catalogs.distances), and, for every binary, the
distances along its line of sight that fall inside the 1 sigma region (the envelope:
nearest and farthest), which is what can be said of a binary without a distance.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import MaskedColumn, QTable
from scipy.interpolate import RegularGridInterpolator

from crknee.catalogs import distances as dist
from crknee.catalogs.frame import R_SUN, plane_xy_kpc
from crknee.catalogs.hpd import HPDRegion
from crknee.errors import DataError, InputError
from crknee.units import value_in

#: Latitude cut of the paper's map (Fig. 10 caption and Sec. 3: |b| < 5 deg).
MAX_B = 5 * u.deg
#: Equal-probability nodes of each binary's distance pdf (probabilities resolved to 1 %).
N_DISTANCE_NODES = 100
#: Line-of-sight step of the 1 sigma distance envelope [kpc].
LOS_STEP_KPC = 0.02


def read_samples(path):
    """Posterior samples from an ECSV table with columns ``l_deg`` and ``d_kpc``.

    Columns may be plain numbers (the unit is in the name) or Quantities in any angle /
    length unit.  Returns (l, d) Quantities.  Raises :class:`DataError` for a table that
    cannot be read or lacks a column.
    """
    try:
        table = QTable.read(path, format="ascii.ecsv")
    except FileNotFoundError:
        raise
    except Exception as exc:  # astropy raises many types for a malformed file
        raise DataError(f"cannot read posterior samples {str(path)!r} as ECSV: {exc}") from exc
    missing = [c for c in ("l_deg", "d_kpc") if c not in table.colnames]
    if missing:
        raise DataError(f"posterior samples {str(path)!r} lack column(s) {missing}; has {table.colnames}")
    out = []
    for col, unit in (("l_deg", u.deg), ("d_kpc", u.kpc)):
        x = table[col]
        try:
            out.append(x.to(unit) if isinstance(x, u.Quantity) else np.asarray(x, float) * unit)
        except u.UnitsError:
            raise DataError(
                f"posterior samples {str(path)!r}: column {col} is in {x.unit}, not convertible to {unit}"
            ) from None
        except (TypeError, ValueError):
            raise DataError(f"posterior samples {str(path)!r}: column {col} is not numeric") from None
    return tuple(out)


def two_piece_normal(median, minus, plus, n: int, rng: np.random.Generator):
    """``n`` samples whose median, 16th and 84th percentiles are median, median - minus,
    median + plus: z ~ N(0, 1) scaled by ``minus`` below and ``plus`` above the median."""
    for name, q in (("minus", minus), ("plus", plus)):
        if not u.Quantity(q).value > 0:
            raise InputError(f"{name} error must be > 0; got {q!r}")
    z = rng.standard_normal(n)
    return median + np.where(z < 0, z * minus, z * plus)


def synthetic_posterior(result, n: int = 20000, rng: np.random.Generator | None = None) -> QTable:
    """Synthetic posterior matching a quoted result (e.g. the paper's, Sec. 3:
    ``crknee.paper.KNEE_SOURCE``, l = 337.4 (+44.5, -34.7) deg, d = 2.64 (+0.44, -0.45) kpc).

    ``result``: {"l_deg": (median, minus, plus), "d_kpc": (median, minus, plus)} in deg and
    kpc (other keys ignored).  l and d are drawn independently with
    :func:`two_piece_normal` (a quoted result gives no correlation); l is wrapped to
    [0, 360) deg.  Returns a QTable with columns ``l_deg`` [deg] and ``d_kpc`` [kpc].
    The library takes the published numbers as an argument; only the application and the
    tests read :mod:`crknee.paper`.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    l = two_piece_normal(*(v * u.deg for v in result["l_deg"]), n, rng)
    d = two_piece_normal(*(v * u.kpc for v in result["d_kpc"]), n, rng)
    return QTable({"l_deg": np.mod(l.to_value(u.deg), 360.0) * u.deg, "d_kpc": d.to(u.kpc)})


def _line_of_sight(region, l_deg, b_deg):
    """Per line of sight: nearest and farthest distance [kpc] inside the 1 sigma region
    and the peak density [kpc^-2] (bilinear interpolation of :meth:`HPDRegion.grid`)."""
    xs, ys, dens = region.grid()
    interp = RegularGridInterpolator((ys, xs), dens, bounds_error=False, fill_value=0.0)
    corners = np.array([[xs[0], ys[0]], [xs[0], ys[-1]], [xs[-1], ys[0]], [xs[-1], ys[-1]]])
    d_far = np.max(np.hypot(corners[:, 0] + R_SUN.to_value(u.kpc), corners[:, 1]))
    d_grid = np.arange(LOS_STEP_KPC, d_far + LOS_STEP_KPC, LOS_STEP_KPC)
    x, y = plane_xy_kpc(l_deg[:, None], d_grid[None, :], b_deg[:, None])
    dens_los = interp(np.stack([y, x], axis=-1))
    inside = dens_los >= region.thresholds_kpc2[0]
    any_in = inside.any(axis=1)
    near = np.where(any_in, d_grid[np.argmax(inside, axis=1)], np.nan)
    far = np.where(any_in, d_grid[len(d_grid) - 1 - np.argmax(inside[:, ::-1], axis=1)], np.nan)
    return near, far, dens_los.max(axis=1)


def inside(table: QTable, region: HPDRegion, level: int = 1) -> np.ndarray:
    """Mask of the rows of a :func:`find_candidates` table whose median position lies
    inside the ``level`` (1 or 2) sigma HPD region; binaries without distance are outside."""
    if level not in (1, 2):
        raise InputError(f"HPD level must be 1 or 2 (sigma); got {level!r}")
    dens = np.asarray(table["density"].to_value(u.kpc**-2), dtype=float)
    return np.isfinite(dens) & (dens >= region.thresholds_kpc2[level - 1])


def find_candidates(region: HPDRegion, binaries: QTable, *, max_b=MAX_B, n_nodes: int = N_DISTANCE_NODES) -> QTable:
    """Binaries with |b| < ``max_b`` (angle Quantity or float in deg), ranked by the posterior
    density at their position.

    ``binaries``: a table from :func:`crknee.catalogs.load_binaries` / ``merge``.  Binaries
    without any distance are kept, flagged ``distance_flag = "no distance"``, unranked
    (masked ``rank``) and listed after the ranked ones (by decreasing density along
    their line of sight).  meta holds the HPD convention, masses, density thresholds and
    the counts (per catalogue, in the plane, with and without a distance).
    """
    max_b_deg = value_in("max_b", max_b, "deg")
    if not 0 < max_b_deg <= 90:
        raise InputError(f"max_b must be in (0, 90] deg; got {max_b!r}")
    if n_nodes < 1:
        raise InputError(f"n_nodes must be >= 1; got {n_nodes!r}")
    b_all = binaries["b"].to_value(u.deg)
    plane = binaries[np.abs(b_all) < max_b_deg]
    l_deg, b_deg = plane["l"].to_value(u.deg), plane["b"].to_value(u.deg)
    d, lo, hi = (plane[c].to_value(u.kpc) for c in ("distance", "distance_lo", "distance_hi"))
    flag = dist.distance_flag(d, lo, hi)
    med = dist.median_kpc(d, lo, hi)
    x, y = plane_xy_kpc(l_deg, med, b_deg)
    density = np.where(np.isfinite(med), region.density_kpc2(x, y), np.nan)

    nodes = dist.distance_nodes_kpc(d, lo, hi, n_nodes)
    xn, yn = plane_xy_kpc(l_deg[:, None], nodes, b_deg[:, None])
    dn = region.density_kpc2(xn, yn)
    has = np.isfinite(med)
    p1 = np.where(has, np.mean(dn >= region.thresholds_kpc2[0], axis=1), np.nan)
    p2 = np.where(has, np.mean(dn >= region.thresholds_kpc2[1], axis=1), np.nan)
    near, far, los_peak = _line_of_sight(region, l_deg, b_deg)

    out = QTable()
    for col in ("name", "class", "catalog", "microquasar", "l", "b", "distance", "distance_lo", "distance_hi"):
        out[col] = plane[col]
    out["distance_flag"] = flag
    out["distance_catalog"] = plane["distance_catalog"]
    out["x"] = x * u.kpc
    out["y"] = y * u.kpc
    out["density"] = density / u.kpc**2
    out["p_in_1sigma"] = p1
    out["p_in_2sigma"] = p2
    out["los_d_1sigma_min"] = near * u.kpc
    out["los_d_1sigma_max"] = far * u.kpc
    out["alt_names"] = plane["alt_names"]

    order = np.lexsort((-los_peak, -np.nan_to_num(density, nan=-1.0), ~has))
    out = out[order]
    n_ranked = int(has.sum())
    out.add_column(MaskedColumn(np.arange(1, len(out) + 1), mask=np.arange(len(out)) >= n_ranked), name="rank", index=0)

    cats = list(binaries.meta.get("catalogs", np.unique(binaries["catalog"])))
    out.meta.update(
        {
            "hpd_convention": region.convention,
            "hpd_masses": list(region.masses),
            "hpd_thresholds_kpc-2": list(region.thresholds_kpc2),
            "kde": "scipy.stats.gaussian_kde on (x, y), Scott bandwidth",
            "n_posterior_samples_used": region.n_samples,
            "frame": f"Galactocentric plane: GC at (0, 0), Sun at (-{R_SUN.to_value(u.kpc)}, 0) kpc, "
            "+x Sun->GC, +y toward l=90",
            "max_abs_b_deg": max_b_deg,
            "catalogs": cats,
            "counts": {
                cat: {
                    "binaries": int(np.sum(binaries["catalog"] == cat)),
                    "in_plane": int(np.sum(out["catalog"] == cat)),
                    "in_plane_with_distance": int(
                        np.sum((out["catalog"] == cat) & (out["distance_flag"] != dist.FLAG_NONE))
                    ),
                    "in_plane_no_distance": int(
                        np.sum((out["catalog"] == cat) & (out["distance_flag"] == dist.FLAG_NONE))
                    ),
                }
                for cat in cats
            },
            "n_outside_plane": int(len(binaries) - len(plane)),
            "n_no_distance": int(np.sum(~has)),
            "n_inside_1sigma": int(np.sum(inside(out, region, 1))),
            "n_inside_2sigma": int(np.sum(inside(out, region, 2))),
        }
    )
    return out

"""Paper Fig. 10: X-ray binaries on the Galactic plane with the 1 and 2 sigma HPD contours.

Frame (crknee.catalogs.frame): Galactic centre at the origin, Sun at (-8.5, 0) kpc, +x from
the Sun toward the Galactic centre, +y toward l = 90 deg.  HMXBs are black, LMXBs blue,
the five LHAASO microquasars in the paper's colours (distances: see
crknee.catalogs.microquasars; they are drawn even off the |b| cut).  Binaries without a distance cannot be
placed; their number is written on the figure.  Binaries inside the 1 sigma region
(by their median distance) are numbered by rank and listed beside the map.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

from crknee.catalogs.candidates import inside as inside_region
from crknee.catalogs.distances import FLAG_NONE
from crknee.catalogs.frame import R_SUN, plane_xy_kpc
from crknee.plots.style import new_figure, save

#: Colours of the microquasars in the paper's Fig. 10 caption.
MICROQUASAR_COLOURS = {
    "SS 433": "red",
    "V4641 Sgr": "orange",
    "GRS 1915+105": "brown",
    "MAXI J1820+070": "green",
    "Cyg X-1": "cyan",
}
#: Colours of the 1 sigma and 2 sigma contours (Fig. 10 caption: red and green, dashed).
CONTOUR_COLOURS = ("red", "green")


#: Candidates named beside the map (the highest-ranked); the full list is in candidates.ecsv.
MAX_LISTED = 12


def _limits(x, y):
    r_sun = R_SUN.to_value(u.kpc)
    xs = np.concatenate([x[np.isfinite(x)], [-r_sun, 0.0]])
    ys = np.concatenate([y[np.isfinite(y)], [0.0]])
    return (xs.min() - 1, xs.max() + 1), (ys.min() - 1, ys.max() + 1)


def plot_xrb_map(candidates, region, microquasars, path=None, formats=("png", "pdf")):
    """Draw Fig. 10.

    ``candidates``: table from :func:`crknee.catalogs.find_candidates`; ``region``: the
    :class:`crknee.catalogs.HPDRegion` it used; ``microquasars``: table from
    :func:`crknee.catalogs.microquasar_positions`.  Returns the figure, or the written
    paths when ``path`` is given (saved atomically in each of ``formats``).
    """
    fig, ax = new_figure(10.0, 6.4)
    max_b = candidates.meta["max_abs_b_deg"]
    x, y = candidates["x"].to_value(u.kpc), candidates["y"].to_value(u.kpc)
    cls = np.char.upper(np.asarray(candidates["class"], dtype=str))
    placed = candidates["distance_flag"] != FLAG_NONE
    for label, sel, colour in (("HMXB", "HMXB", "black"), ("LMXB", "LMXB", "tab:blue")):
        m = placed & (np.char.find(cls, sel) >= 0)
        ax.plot(x[m], y[m], ".", color=colour, ms=4, ls="none", label=f"{label} (|b| < {max_b:g} deg, N = {m.sum()})")
    xlim, ylim = _limits(x, y)

    xs, ys, dens = region.grid()
    t1, t2 = region.thresholds_kpc2
    ax.contour(xs, ys, dens, levels=[t2, t1], colors=CONTOUR_COLOURS[::-1], linestyles="--")
    for colour, mass, n in zip(CONTOUR_COLOURS, region.masses, (1, 2)):
        ax.plot([], [], "--", color=colour, label=f"{n} sigma HPD ({100 * mass:.1f} %)")

    r_sun = R_SUN.to_value(u.kpc)
    for row in microquasars:
        name = row["name"]
        l_deg, b_deg, d_kpc = (row[c].value for c in ("l", "b", "distance"))
        mx, my = plane_xy_kpc(l_deg, d_kpc, b_deg)
        note = f", b = {b_deg:.1f} deg" if abs(b_deg) >= max_b else ""
        ax.plot(
            mx,
            my,
            "*",
            color=MICROQUASAR_COLOURS[name],
            ms=13,
            mec="black",
            mew=0.5,
            label=f"{name} ({d_kpc:.2f} kpc{note})",
        )
    ax.plot(-r_sun, 0, "o", mfc="yellow", mec="black", ms=9, label="Sun")
    ax.plot(0, 0, "+", color="black", ms=10)
    ax.annotate("", xy=(-r_sun + 2.5, 0), xytext=(-r_sun, 0), arrowprops=dict(arrowstyle="->", color="green", lw=2))
    ax.text(-r_sun + 1.25, -0.25, "to GC", color="green", ha="center", va="top", fontsize=8)
    inside = placed & inside_region(candidates, region, 1)
    for row in candidates[inside]:
        ax.annotate(
            str(row["rank"]),
            (row["x"].to_value(u.kpc), row["y"].to_value(u.kpc)),
            fontsize=6,
            xytext=(2, 2),
            textcoords="offset points",
            color="darkred",
        )
    ranked = candidates[inside]
    ranked = ranked[np.argsort(np.asarray(ranked["rank"]))]
    listing = "\n".join(f"{row['rank']}: {row['name']}" for row in ranked[:MAX_LISTED])
    if len(ranked) > MAX_LISTED:
        listing += f"\n... and {len(ranked) - MAX_LISTED} more (candidates.ecsv)"
    ax.text(
        1.02,
        0.0,
        f"inside 1 sigma (median distance):\n{listing}",
        transform=ax.transAxes,
        fontsize=7,
        va="bottom",
        color="darkred",
    )
    n_none = int(np.sum(~placed))
    ax.text(
        0.01,
        0.01,
        f"{n_none} binaries with |b| < {max_b:g} deg have no distance (not shown)",
        transform=ax.transAxes,
        fontsize=7,
        va="bottom",
    )
    ax.set(
        xlim=xlim,
        ylim=ylim,
        xlabel="x [kpc] (Sun -> Galactic centre)",
        ylabel="y [kpc] (toward l = 90 deg)",
        aspect="equal",
    )
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if path is None:
        return fig
    return save(fig, path, formats)

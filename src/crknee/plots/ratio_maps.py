"""Issue 12: contour maps of the microquasars' protons at Earth / LHAASO at 1 PeV.

One row per source, one column per age: filled contours of log10 R over (n_H a^2, chi)
(:func:`crknee.gamma.maps.ratio_map`, the gamma-ray SED refitted at every point), the
region where the source alone would exceed the measured protons (R > 1) shaded red, the
fitted L0 as dashed grey lines (fitted sources), the documented plausible box dotted, and
markers: the default configuration (gas-model n_H, chi = 1), n_H = 1 cm^-3 (crknee's
earlier default) and, where the paper's Table 2 L0 can be placed, the n_H a^2 at which
the fit needs that L0 (chi = 1).
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from crknee.gamma.maps import RatioMap
from crknee.plots.style import new_figure, save

#: Fitted-L0 contour levels [erg/s].
L0_LEVELS = (1e37, 1e38, 1e39, 1e40, 1e41, 1e42)


def plot_ratio_maps(maps: dict[str, RatioMap], path=None, table2_L0: dict | None = None, formats=("png", "pdf")):
    """Draw the maps ({source: RatioMap}); ``table2_L0``: {source: L0 [erg/s]} of the
    paper's Table 2 to mark.  Returns the figure, or the paths written."""
    table2_L0 = table2_L0 or {}
    rows = len(maps)
    cols = max(m.age_Myr.size for m in maps.values())
    fig, axes = new_figure(4.2 * cols + 0.8, 3.4 * rows, nrows=rows, ncols=cols, squeeze=False)
    for r, (name, m) in enumerate(maps.items()):
        R = m.ratio
        with np.errstate(divide="ignore"):
            logR = np.log10(np.maximum(R, 1e-300))
        lo, hi = np.floor(np.nanmin(logR)) - 1.0, np.ceil(np.nanmax(logR)) + 1.0
        step = max(1.0, np.ceil((hi - lo) / 14.0))  # at most ~14 labelled decades
        lv = np.arange(hi - step * np.ceil((hi - lo) / step), hi + 0.5 * step, step)
        X, Y = np.meshgrid(m.n_H_a2, m.chi)
        for c in range(cols):
            ax = axes[r, c]
            if c >= m.age_Myr.size:
                ax.set_visible(False)
                continue
            cf = ax.contourf(X, Y, logR[c], levels=lv, cmap="viridis", extend="both")
            ax.contour(X, Y, logR[c], levels=lv, colors="k", linewidths=0.4)
            if np.nanmax(logR[c]) > 0:
                ax.contourf(X, Y, logR[c], levels=[0.0, np.inf], colors="red", alpha=0.3)
                ax.contour(X, Y, logR[c], levels=[0.0], colors="red", linewidths=1.5)
            if m.fitted:
                L0 = m.L0_erg_s[c]
                ok = [v for v in L0_LEVELS if np.nanmin(L0) < v < np.nanmax(L0)]
                if ok:
                    cl = ax.contour(X, Y, L0, levels=ok, colors="0.85", linestyles="--", linewidths=0.8)
                    ax.clabel(cl, fmt=lambda v: f"L0={v:.0e}", fontsize=5)
            _box(ax, m)
            _markers(ax, m, c, table2_L0.get(name))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.minorticks_off()  # 12 log panels: minor ticks cost seconds of layout
            ax.set_xlabel(f"n_H a^2 [cm^-3 pc^2]  (a = {m.a_pc:.3g} pc)")
            ax.set_ylabel("chi (D inside / D Galactic)")
            age = m.age_Myr[c]
            ax.set_title(
                f"{name}, age {age * 1e3:.3g} kyr" + ("" if m.fitted else "\n(paper parameters, not refitted)"),
                fontsize=9,
            )
            if r == 0 and c == 0:
                ax.legend(fontsize=6, loc="lower left", framealpha=0.8)
        fig.colorbar(
            cf, ax=list(axes[r, : m.age_Myr.size]), label="log10 (p at Earth / LHAASO), 1 PeV", shrink=0.9, pad=0.01
        )
    return fig if path is None else save(fig, path, formats)


def _box(ax, m: RatioMap):
    box = m.plausible
    chi_lo, chi_hi = box["chi"]
    if m.fitted:
        x0, x1 = (f * m.n_H_a2_ref for f in box["n_H_factor"])
    else:
        x0, x1 = m.n_H_a2[0], m.n_H_a2[-1]
    ax.add_patch(
        Rectangle((x0, chi_lo), x1 - x0, chi_hi - chi_lo, fill=False, ls=":", lw=1.2, ec="white", label="plausible box")
    )


def _markers(ax, m: RatioMap, i_age: int, L0_table2: float | None):
    i_chi = int(np.argmin(np.abs(np.log(m.chi))))  # chi = 1
    kw = dict(ls="none", clip_on=False, zorder=5)
    ax.plot(
        m.n_H_a2_ref,
        m.chi[i_chi],
        marker="*",
        ms=12,
        color="red",
        mec="white",
        **kw,
        label=f"default config (gas model n_H = {m.params.n_H_cm3:.2g} cm^-3)",
    )
    if m.fitted:
        ax.plot(m.a_pc**2, m.chi[i_chi], marker="o", ms=7, color="orange", mec="k", **kw, label="n_H = 1 cm^-3")
        if L0_table2 is not None:
            x = m.n_H_a2_for_L0(L0_table2, i_age, i_chi)
            ax.plot(
                x,
                m.chi[i_chi],
                marker="s",
                ms=7,
                color="white",
                mec="k",
                **kw,
                label=f"fit needs Table 2 L0 = {L0_table2:.2g} erg/s",
            )
    ax.set_xlim(m.n_H_a2[0], m.n_H_a2[-1])
    ax.set_ylim(m.chi[0], m.chi[-1])

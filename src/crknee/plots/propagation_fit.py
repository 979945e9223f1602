"""Figures of the propagation fit (crknee.fit.propagation): corner plot, every fitted ratio and spectrum with its
68/95 % posterior band over the data and a residual panel, and the checks (not fitted).

Spectra are drawn as R^2.7 J(R) [m^-2 s^-1 sr^-1 GV^1.7] so that the bands are readable;
residuals are (data - posterior median) / total error (stat (+) sys in quadrature).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crknee.plots.style import save

#: Spectrum weight R^2.7 (the usual AMS-02 presentation).
FLUX_WEIGHT = 2.7


def corner(samples, parameters, path) -> list[Path]:
    """1-D and 2-D marginals of the free parameters (crknee.plots.fit.corner_figure)."""
    from crknee.plots.fit import corner_figure

    return corner_figure(np.array(samples, copy=True), parameters, path)


def _weight(o, R):
    return R**FLUX_WEIGHT if o.kind == "flux" else np.ones_like(R)


def bands_figure(observables, bands, median_at_data, path, title: str) -> list[Path]:
    """One column per dataset: data with the 68/95 % bands (top) and residuals (bottom).

    ``bands``: list of (R_grid, percentiles (5, n_grid) at 2.5, 16, 50, 84, 97.5 %) or
    (R_grid, single curve (1, n_grid)) for a point estimate; ``median_at_data``: the
    posterior-median prediction at each dataset's rigidities."""
    import matplotlib.pyplot as plt

    n = len(observables)
    ncol = min(n, 4)
    nrow = int(np.ceil(n / ncol))
    fig = plt.figure(figsize=(4.0 * ncol, 4.4 * nrow), constrained_layout=True)
    grid = fig.add_gridspec(2 * nrow, ncol, height_ratios=[3, 1] * nrow)
    for i, (o, (R, pc), med) in enumerate(zip(observables, bands, median_at_data)):
        r, c = divmod(i, ncol)
        ax = fig.add_subplot(grid[2 * r, c])
        res = fig.add_subplot(grid[2 * r + 1, c], sharex=ax)
        w = _weight(o, R)
        if pc.shape[0] == 5:
            ax.fill_between(R, pc[0] * w, pc[4] * w, color="C0", alpha=0.2, lw=0, label="95 %")
            ax.fill_between(R, pc[1] * w, pc[3] * w, color="C0", alpha=0.4, lw=0, label="68 %")
            ax.plot(R, pc[2] * w, color="C0", lw=1, label="median")
        else:
            ax.plot(R, pc[0] * w, color="C0", lw=1, label="posterior median")
        err = np.hypot(o.stat, o.sys)
        wd = _weight(o, o.R_GV)
        ax.errorbar(o.R_GV, o.y * wd, yerr=err * wd, fmt="o", ms=2.5, color="k", lw=0.8, label="AMS-02")
        ax.set_xscale("log")
        ax.set_yscale("log" if o.kind == "flux" else "linear")
        ax.set_title(o.name, fontsize=9)
        ax.set_ylabel(o.label + (r" $\times R^{2.7}$" if o.kind == "flux" else ""), fontsize=8)
        res.axhline(0.0, color="C0", lw=0.8)
        res.plot(o.R_GV, (o.y - med) / err, "o", ms=2.5, color="k")
        res.set_ylabel(r"$\Delta/\sigma$", fontsize=8)
        res.set_xlabel("R [GV]", fontsize=8)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    out = save(fig, path, formats=("png",))
    plt.close(fig)
    return out


def draw_all(figures, folder) -> list[Path]:
    """Every figure of a finished fit from its
    :class:`crknee.fit.propagation.outputs.FigureInputs` into ``folder``: the corner plot,
    the fitted data with their bands, and the checks not fitted."""
    folder = Path(folder)
    paths = corner(figures.samples, figures.parameters, folder / "corner.png")
    paths += bands_figure(
        figures.observables,
        figures.bands,
        figures.median_at_data,
        folder / "fit_bands.png",
        "fitted data: posterior 68/95 % bands",
    )
    if figures.checks is not None:
        c = figures.checks
        paths += bands_figure(
            c["observables"],
            c["curves"],
            c["predictions"],
            folder / "checks.png",
            f"not fitted: full network (up to {figures.check_heaviest}) at the posterior median",
        )
    return paths

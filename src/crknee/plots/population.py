"""Figures of a source-population ensemble (crknee.population): flux and dipole bands next
to the data, the brightest source's share, and where the dominant sources are.

Every function takes results (the ensemble Dataset, crknee.population.stats objects, data
tables already on the Etot axis) and returns a :class:`matplotlib.figure.Figure`; nothing
here computes physics or selects a matplotlib backend (this module does not import
crknee.plots.style, which selects Agg; the spectra weight E^w is the caller's
``weight``, crknee.plots.style.SPECTRUM_WEIGHT in the CLI).  Save with
:func:`save_figure` or ``fig.savefig``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from crknee.population.stats import bands, dipole_amplitudes

_BAND_COLOURS = ("#9ecae1", "#4292c6")


def _band(ax, E, values, weight=1.0, colour="C0", label="population"):
    q = bands(values) * weight
    ax.fill_between(E, q[0], q[4], color=_BAND_COLOURS[0], alpha=0.6, lw=0, label=f"{label}: 95 %")
    ax.fill_between(E, q[1], q[3], color=_BAND_COLOURS[1], alpha=0.6, lw=0, label=f"{label}: 68 %")
    ax.plot(E, q[2], color=colour, lw=1.5, label=f"{label}: median")


def _points(ax, tables, weight_power=0.0):
    """Data tables with x = Etot [GeV] and y, y_err_lo/hi; upper limits as triangles."""
    for i, (label, t) in enumerate(tables):
        x = np.asarray(t["x"].value if hasattr(t["x"], "value") else t["x"], dtype=float)
        y = np.asarray(getattr(t["y"], "value", t["y"]), dtype=float)
        lo = np.nan_to_num(np.asarray(getattr(t["y_err_lo"], "value", t["y_err_lo"]), dtype=float))
        hi = np.nan_to_num(np.asarray(getattr(t["y_err_hi"], "value", t["y_err_hi"]), dtype=float))
        ul = np.asarray(t["upper_limit"], dtype=bool) if "upper_limit" in t.colnames else np.zeros(x.size, bool)
        w = x**weight_power
        ok = np.isfinite(x) & np.isfinite(y) & (y > 0)
        m = ok & ~ul
        ax.errorbar(
            x[m],
            (y * w)[m],
            yerr=[(lo * w)[m], (hi * w)[m]],
            fmt="os^vD<>ph*"[i % 10],
            ms=3,
            ls="none",
            lw=0.8,
            label=label,
        )
        if np.any(ok & ul):
            ax.plot(x[ok & ul], (y * w)[ok & ul], "v", ms=4, color="gray")


def flux_bands_figure(ds, weight: float, data=None) -> Figure:
    """E^weight J of protons, helium and all particles: 68/95 % bands and median over the
    realisations, the exact ensemble mean, and ``data`` = {"flux_p"|"flux_he"|"flux_all":
    [(label, table on Etot)]}."""
    E = ds["energy"].values
    w = E**weight
    fig = Figure(figsize=(13.0, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (name, title) in zip(axes, (("flux_p", "protons"), ("flux_he", "helium"), ("flux_all", "all particles"))):
        if not np.any(ds[f"mean_{name}"].values > 0):
            ax.text(0.5, 0.5, "not in the composition", ha="center", transform=ax.transAxes)
            ax.set(title=title, xlabel="total energy per particle E [GeV]")
            continue
        if data and data.get(name):
            _points(ax, data[name], weight)
        _band(ax, E, ds[name].values, w)
        ax.plot(E, ds[f"mean_{name}"].values * w, "k--", lw=1.2, label="ensemble mean (smooth)")
        ax.set(
            xscale="log",
            yscale="log",
            title=title,
            xlabel="total energy per particle E [GeV]",
            ylabel=rf"$E^{{{weight:g}}} J$ [GeV$^{{{weight - 1:g}}}$ m$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}$]",
        )
        ax.set_xlim(E.min() / 1.5, E.max() * 1.5)
        positive = ds[name].values[ds[name].values > 0]
        if positive.size:
            lo = np.nanmin(np.quantile(ds[name].values, 0.025, axis=0) * w)
            ax.set_ylim(max(lo / 3, 1e-3 * np.nanmax(ds[f"mean_{name}"].values * w)), None)
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle(f"{ds.sizes['realisation']} realisations of the source population (LIS)", fontsize=10)
    return fig


def dipole_bands_figure(ds, data=None) -> Figure:
    """Equatorial dipole amplitude: bands over realisations, the smooth (ensemble-mean)
    model, and ``data`` = [(label, anisotropy table)] (x = E per particle [GeV])."""
    from crknee.anisotropy import equatorial

    E = ds["energy"].values
    _, amp_eq, _ = dipole_amplitudes(ds)
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    ax = fig.subplots()
    if data:
        _points(ax, data)
    _band(ax, E, amp_eq)
    ax.plot(E, equatorial(ds["mean_dipole"].values)[0], "k--", lw=1.2, label="smooth model (ensemble mean)")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="total energy per particle E [GeV]",
        ylabel=r"equatorial dipole amplitude $d_\perp$",
        ylim=(1e-5, 1.0),
    )
    ax.set_xlim(min(E.min() / 1.5, 1e3), max(E.max() * 1.5, 1e9))
    ax.legend(fontsize=6, ncol=2)
    return fig


def share_figure(ds) -> Figure:
    """Share of the brightest single source in the proton flux (bands) and the probability
    that it exceeds one half, vs energy."""
    E = ds["energy"].values
    share = ds["share_p"].values
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    ax = fig.subplots()
    _band(ax, E, share, label="brightest source / total (protons)")
    ax.plot(E, np.mean(share > 0.5, axis=0), "o-", color="C3", ms=3, label="P(share > 1/2)")
    ax.axhline(0.5, color="gray", lw=0.8, ls=":")
    ax.set(xscale="log", ylim=(0.0, 1.0), xlabel="total energy per particle E [GeV]", ylabel="fraction")
    ax.legend(fontsize=7)
    return fig


def dominant_sources_figure(dom, class_names, knee=None) -> Figure:
    """Distance and age of the dominant source (share > threshold) in each realisation where
    one exists (``dom`` a crknee.population.stats.Dominance), coloured by class; ``knee`` =
    {"d_kpc": (median, minus, plus), "age_Myr": (...)} (e.g. crknee.paper.KNEE_SOURCE) is
    drawn with its 1 sigma errors."""
    fig = Figure(figsize=(11.0, 4.4), layout="constrained")
    ax_s, ax_d, ax_t = fig.subplots(1, 3)
    for ci, name in enumerate(class_names):
        m = dom.cls == ci
        if np.any(m):
            ax_s.plot(dom.d_kpc[m], dom.age_Myr[m], ".", ms=4, label=f"{name} ({m.sum()})")
    if dom.d_kpc.size:
        ax_d.hist(dom.d_kpc, bins=min(30, max(5, dom.d_kpc.size // 5)), color="C0", alpha=0.8)
        ax_t.hist(np.log10(dom.age_Myr), bins=min(30, max(5, dom.age_Myr.size // 5)), color="C1", alpha=0.8)
    if knee is not None:
        d, t = knee["d_kpc"], knee["age_Myr"]
        ax_s.errorbar(
            [d[0]],
            [t[0]],
            xerr=[[d[1]], [d[2]]],
            yerr=[[t[1]], [t[2]]],
            fmt="*",
            ms=12,
            color="k",
            label="paper's knee source",
        )
        ax_d.axvspan(d[0] - d[1], d[0] + d[2], color="k", alpha=0.2, label="paper's knee source")
        ax_t.axvline(np.log10(t[0]), color="k", lw=1.5, label="paper's knee source")
    ax_s.set(
        yscale="log",
        xlabel="distance d [kpc]",
        ylabel="age t [Myr]",
        title=f"P(share > {dom.threshold:g} at {dom.E_GeV:.3g} GeV) = {dom.probability:.3f} "
        f"(68 %: {dom.lo:.3f}-{dom.hi:.3f}, n = {dom.n})",
    )
    ax_s.title.set_fontsize(8)
    ax_d.set(xlabel="distance d [kpc]", ylabel="realisations")
    ax_t.set(xlabel="log10 age t [Myr]", ylabel="realisations")
    for ax in (ax_s, ax_d, ax_t):
        ax.legend(fontsize=7)
    return fig


def save_figure(fig, path) -> None:
    """Write ``fig`` atomically (crknee.io.atomic_target) in the format of ``path``'s suffix."""
    from pathlib import Path

    from crknee.io import atomic_target

    path = Path(path)
    with atomic_target(path, suffix=path.suffix) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=150)

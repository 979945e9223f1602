"""The knee-source fit over the spectra and <ln A> it fits: paper Figs. 8 (He) and 9
(all-particle) as fits, and the <ln A> figure (issue 17, item 2).

Functions take results and return a :class:`matplotlib.figure.Figure` (no backend is
chosen here, nothing physical is computed): the caller evaluates the posterior bands
(:func:`crknee.fit.model.posterior_bands`, true energies) and moves each dataset to the
true energy scale of the posterior's best point (:func:`crknee.fit.model.data_on_true_scale`).
Upper panel: E^2.6 J (or <ln A>) with the median model and its 68 / 95 % bands, the median
fixed components and knee source, the data (filled: fitted, open: checks); lower panel:
pulls (data - median model) / error of every data point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from crknee.plots.style import MARKERS, SPECTRUM_WEIGHT


@dataclass(frozen=True)
class Points:
    """One dataset's rows on the true energy scale: label, E [GeV], y (flux
    [m^-2 s^-1 sr^-1 GeV^-1] or <ln A>), errors below / above, and whether it was fitted."""

    label: str
    E: np.ndarray
    y: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    fitted: bool = True


def _figure():
    fig = Figure(figsize=(6.4, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    return fig, top, bottom


def _draw(top, bottom, E, total, parts, points, weight, ylabel, title):
    """Bands (5, m) at 2.5/16/50/84/97.5 %; ``parts``: {label: (5, m)} medians drawn dashed."""
    w = E**weight
    top.fill_between(E, total[0] * w, total[4] * w, color="C0", alpha=0.15, lw=0, label="model, 95 %")
    top.fill_between(E, total[1] * w, total[3] * w, color="C0", alpha=0.35, lw=0, label="model, 68 %")
    top.plot(E, total[2] * w, color="C0", label="model, median")
    for i, (label, band) in enumerate(parts.items()):
        top.plot(E, band[2] * w, color=f"C{i + 2}", ls="--" if i == 0 else ":", label=label)
    for i, p in enumerate(points):
        pw = p.E**weight
        style = dict(
            marker=MARKERS[i % len(MARKERS)],
            ls="none",
            ms=4,
            color=f"C{(i + 4) % 10}",
            mfc=None if p.fitted else "none",
        )
        top.errorbar(
            p.E,
            p.y * pw,
            yerr=[p.err_lo * pw, p.err_hi * pw],
            label=p.label + ("" if p.fitted else " (check)"),
            **style,
        )
        model = np.interp(np.log(p.E), np.log(E), total[2], left=np.nan, right=np.nan)
        err = np.where(p.y > model, p.err_lo, p.err_hi)
        bottom.plot(p.E, (p.y - model) / err, **style)
    bottom.axhline(0.0, color="k", lw=0.8)
    for k in (-2, 2):
        bottom.axhline(k, color="k", lw=0.5, ls=":")
    top.set_xscale("log")
    bottom.set_xscale("log")
    top.set_ylabel(ylabel)
    top.set_title(title, fontsize=9)
    bottom.set_xlabel("E (total energy per particle) [GeV]")
    bottom.set_ylabel("pull")
    top.legend(fontsize=6, ncol=2)


def spectrum_fit_figure(E_GeV, bands: dict, points: list, key: str, title: str) -> Figure:
    """E^2.6-weighted spectrum of ``key`` ("He", "all", "H", "light"): ``bands`` holds
    (5, m) arrays for "total:<key>", "fixed:<key>" and "source:<key>" on ``E_GeV``
    (:func:`crknee.fit.model.posterior_bands`); ``points``: :class:`Points`."""
    fig, top, bottom = _figure()
    E = np.asarray(E_GeV, dtype=float)
    parts = {"background + local SNR (median)": bands[f"fixed:{key}"], "knee source (median)": bands[f"source:{key}"]}
    _draw(
        top,
        bottom,
        E,
        bands[f"total:{key}"],
        parts,
        points,
        SPECTRUM_WEIGHT,
        r"$E^{2.6} J$ [m$^{-2}$ s$^{-1}$ sr$^{-1}$ GeV$^{1.6}$]",
        title,
    )
    top.set_yscale("log")
    top.set_ylim(*_flux_limits(E, bands[f"total:{key}"], points))
    return fig


#: Decades shown below the lowest and above the highest weighted flux of the data (of the
#: model's median without data); a component cut off far below leaves the frame.
DECADES_BELOW, DECADES_ABOVE = 1.5, 0.5


def _flux_limits(E, total, points) -> tuple[float, float]:
    """y-limits of an E^2.6-weighted spectrum: framed on the data (the model far outside
    them, e.g. a component's cut-off tail, leaves the frame), else on the model's median."""
    values = [p.E**SPECTRUM_WEIGHT * p.y for p in points] or [E**SPECTRUM_WEIGHT * total[2]]
    y = np.concatenate([np.ravel(v) for v in values])
    y = y[np.isfinite(y) & (y > 0)]
    if y.size == 0:
        return 1e-30, 1.0
    return y.min() * 10**-DECADES_BELOW, y.max() * 10**DECADES_ABOVE


def lnA_fit_figure(E_GeV, bands: dict, points: list, title: str) -> Figure:
    """<ln A>: ``bands["lnA"]`` (5, m) on ``E_GeV`` with the data ``points``; the mass
    numbers of p, He, CNO and Fe marked on the right."""
    fig, top, bottom = _figure()
    E = np.asarray(E_GeV, dtype=float)
    _draw(top, bottom, E, bands["lnA"], {}, points, 0.0, r"$\langle \ln A \rangle$", title)
    for A, label in ((1, "p"), (4, "He"), (14, "N"), (56, "Fe")):
        top.axhline(np.log(A), color="0.6", lw=0.5, ls=":")
        top.annotate(label, (1.0, np.log(A)), xycoords=("axes fraction", "data"), fontsize=7, va="center")
    return fig


def points_for(model, pieces, values, key: str) -> list:
    """:class:`Points` of the flux (``key`` an element, "light", "all") or <ln A>
    (``key = "lnA"``) pieces, moved to the true energy scale of parameter row ``values``
    (:func:`crknee.fit.model.data_on_true_scale`)."""
    from crknee.fit.model import data_on_true_scale

    out = []
    for p in pieces:
        if (key == "lnA" and p.observable == "lnA") or (p.observable == "flux" and model.key_of(p) == key):
            out.append(Points(p.name, *data_on_true_scale(model, p, values), fitted=p.fit))
    return out

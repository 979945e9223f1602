"""Figures of the knee-source fit: Fig. 7 (corner), Fig. 6 (protons), Fig. 8 (helium),
Fig. 9 (all-particle) and the anisotropy amplitude / phase with the fitted source.

Model curves: the fixed components, the knee source and their sum at the MAP, with the
16-84 % band of the total over ``N_DRAWS`` posterior samples.  Spectra are weighted by
E^2.6 (``crknee.plots.style.SPECTRUM_WEIGHT``), E = total energy per particle.  Unlike
the paper's Fig. 7, which scales l by 0.1, the corner plot shows l in degrees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crknee.plots.style import SPECTRUM_WEIGHT, marker, new_figure, save

#: Posterior draws for the bands.
N_DRAWS = 200
#: Energy range of the curves [GeV] (total energy per particle), cut to the fixed components'.
E_CURVE_GEV = (1e3, 3e9)
SPECIES_FIGURES = (
    ("H", "fig06_protons", "protons"),
    ("He", "fig08_helium", "helium"),
    ("all", "fig09_allparticle", "all particles"),
)
_LABELS = {
    "l_deg": "l [deg]",
    "b_deg": "b [deg]",
    "d_kpc": "d [kpc]",
    "age_Myr": "t [Myr]",
    "Rcut_PV": r"$R_{cut}$ [PV]",
    "beta": r"$\beta$",
    "log10_E_erg": r"log$_{10}$ W [erg]",
    "log10_J1PeV": r"log$_{10}$ J(1 PeV)",
    "log10_fHe": r"log$_{10}$ f$_{He}$",
    "log10_fCNO": r"log$_{10}$ f$_{CNO}$",
    "log10_fNeSi": r"log$_{10}$ f$_{NeSi}$",
    "log10_fFe": r"log$_{10}$ f$_{Fe}$",
    "escale_LHAASO": r"s$_{LHAASO}$",
    "Rcut_bg_PV": r"$R_{cut,bg}$ [PV]",
}


#: Largest side of the corner plot [inches].
CORNER_SIZE_IN = 12.0


def corner_figure(samples, parameters, path, truth=None):
    """Fig. 7: 1-D and 2-D marginals of the free parameters (l in degrees).

    A periodic parameter is drawn on the period centred on its circular mean
    (:func:`crknee.fit.summary.unwrap_about_mean`, axis label "mod <period>"), so a
    posterior on the wall at min = max (l = 180 deg) is shown whole, not split.  The 2-D
    histograms use about sqrt(n)/4 bins per axis (8 to 20) and corner's ``quiet``: a sparse
    panel (few samples) draws its contours without corner's "Too few points to create
    valid contours" log warning."""
    import corner

    from crknee.fit.summary import unwrap_about_mean

    samples = parameters.wrap(samples)
    truth = None if truth is None else parameters.wrap(np.asarray(truth, dtype=float)[None])[0]
    labels = []
    for i, p in enumerate(parameters.free):
        label = _LABELS.get(p.name, p.name)
        if p.periodic:
            samples[:, i], centre = unwrap_about_mean(samples[:, i], p.min, p.period)
            if truth is not None:
                truth[i] = centre - 0.5 * p.period + np.mod(truth[i] - centre + 0.5 * p.period, p.period)
            label = f"{label} (mod {p.period:g})"
        labels.append(label)
    bins = int(np.clip(np.sqrt(len(samples)) / 4.0, 8, 20))
    # at most CORNER_SIZE_IN inches across (corner's default, 2 in per parameter, makes a
    # 22-inch page for 11 parameters; corner rasterises the sample points)
    import matplotlib.pyplot as plt

    size = min(2.0 * samples.shape[1], CORNER_SIZE_IN)
    fig = corner.corner(
        samples,
        fig=plt.figure(figsize=(size, size)),
        labels=labels,
        quantiles=[0.16, 0.5, 0.84],
        show_titles=True,
        title_fmt=".3g",
        truths=None if truth is None else list(truth),
        bins=bins,
        quiet=True,
        label_kwargs={"fontsize": 8},
        title_kwargs={"fontsize": 7},
    )
    return save(fig, path, formats=("png", "pdf"))


def _draws(samples, logp, rng, n=N_DRAWS):
    idx = rng.choice(len(samples), size=min(n, len(samples)), replace=False)
    return samples[idx], samples[int(np.argmax(logp))]


def _grid(model):
    lo = max(E_CURVE_GEV[0], model.fixed.E_GeV[0])
    hi = min(E_CURVE_GEV[1], model.fixed.E_GeV[-1])
    return np.logspace(np.log10(lo), np.log10(hi), 120)


def _curves(model, parameters, samples, logp):
    """(E, model at the MAP, model at N_DRAWS posterior draws) on the curves' grid."""
    E = _grid(model)
    rng = np.random.default_rng(0)
    draws, best = _draws(samples, logp, rng)
    ev_best = model.evaluate(parameters.full(best[None]), E)
    ev_draws = model.evaluate(parameters.full(draws), E)
    return E, ev_best, ev_draws


def spectrum_figure(model, parameters, pieces, samples, logp, species, path, title, curves=None):
    """E^2.6 J(E) of ``species`` ("H", "He" or "all"): fixed, knee source, total, data.
    ``curves``: (E, MAP evaluation, draws' evaluation) when already computed (draw_all)."""
    E, best, draws = curves or _curves(model, parameters, samples, logp)
    w = E**SPECTRUM_WEIGHT
    key = "all" if species == "all" else species
    fig, ax = new_figure()
    lo, hi = np.percentile(draws[f"total:{key}"], [16, 84], axis=0)
    ax.fill_between(E, lo * w, hi * w, color="C0", alpha=0.25, lw=0, label="total, 68 % band")
    ax.plot(E, best[f"total:{key}"][0] * w, color="C0", label="total (MAP)")
    ax.plot(E, best[f"fixed:{key}"][0] * w, color="C2", ls="--", label="background + local SNR (fixed)")
    ax.plot(E, best[f"source:{key}"][0] * w, color="C3", ls=":", label="knee source (MAP)")
    mine = [p for p in pieces if p.observable == "flux" and p.species == species]
    for i, p in enumerate(mine):
        e = np.where(np.isfinite(p.E_GeV), p.E_GeV, np.sqrt(p.E_lo_GeV * p.E_hi_GeV))
        ax.errorbar(
            e,
            p.y * e**SPECTRUM_WEIGHT,
            yerr=[p.err_lo * e**SPECTRUM_WEIGHT, p.err_hi * e**SPECTRUM_WEIGHT],
            fmt=marker(i),
            ms=4,
            ls="none",
            mfc="none" if not p.fit else None,
            label=f"{p.name}{'' if p.fit else ' (check)'}",
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="E [GeV]",
        ylabel=r"E$^{2.6}$ J [m$^{-2}$ s$^{-1}$ sr$^{-1}$ GeV$^{1.6}$]",
        title=title,
    )
    top = np.nanmax(best[f"total:{key}"][0] * w)
    ax.set_ylim(top * 1e-3, top * 3)
    ax.legend(fontsize=7)
    return save(fig, path, formats=("png", "pdf"))


def anisotropy_figure(model, parameters, pieces, samples, logp, path, curves=None):
    """Equatorial dipole d_perp and RA phase of the fitted model with the fitted data (each
    published amplitude divided by its convention's factor, phases wrapped to [-180, 180),
    :mod:`crknee.plots.anisotropy`)."""
    from crknee.plots.anisotropy import (
        AMPLITUDE_RANGE,
        draw_points,
        experiment_style,
        phase_curve,
        points_from_piece,
    )

    E, best, draws = curves or _curves(model, parameters, samples, logp)
    fig, (ax_a, ax_p) = new_figure(6.4, 7.2, nrows=2, sharex=True)
    lo, hi = np.percentile(draws["amplitude"], [16, 84], axis=0)
    ax_a.fill_between(E, lo, hi, color="k", alpha=0.2, lw=0, label="68 % band")
    ax_a.plot(E, best["amplitude"][0], color="k", label="total (MAP)")
    ax_p.plot(*phase_curve(E, best["phase"][0]), color="k", label="total (MAP)")
    names = list(dict.fromkeys(p.name for p in pieces if p.observable != "flux"))  # one style per dataset
    for piece in pieces:
        pt = points_from_piece(piece)
        if pt is None:
            continue
        first = piece.observable in ("harmonic", "amplitude")
        draw_points(
            ax_a,
            ax_p,
            pt,
            *experiment_style(names.index(piece.name)),
            label=(pt.label + ("" if pt.fit else " (check)")) if first else None,
        )
    ax_a.set(xscale="log", yscale="log", ylabel=r"equatorial dipole $d_\perp$", ylim=AMPLITUDE_RANGE)
    ax_p.set(
        xscale="log", xlabel="E [GeV]", ylabel="phase (RA) [deg]", ylim=(-180, 180), yticks=np.arange(-180, 181, 60)
    )
    ax_a.legend(fontsize=6)
    return save(fig, path, formats=("png", "pdf"))


def composition_figures(model, parameters, pieces, samples, logp, folder) -> list[Path]:
    """Figs. 8 (helium), 9 (all particles) and <ln A> as fits of a multi-species source
    (crknee.plots.composition): 68/95 % posterior bands of the total, the fixed components
    and the knee source, the data on the MAP's fitted energy scale."""
    from crknee.fit.model import posterior_bands
    from crknee.plots.composition import lnA_fit_figure, points_for, spectrum_fit_figure

    E = _grid(model)
    keys = [f"{part}:{k}" for k in ("He", "all") for part in ("total", "fixed", "source")] + ["lnA"]
    bands = posterior_bands(model, parameters, samples, E, keys)
    best = parameters.full(samples[int(np.argmax(logp))][None])[0]
    written = []
    for key, stem, title in (("He", "fig08_helium", "helium"), ("all", "fig09_allparticle", "all particles")):
        fig = spectrum_fit_figure(
            E, bands, points_for(model, pieces, best, key), key, f"{title}: fixed components + fitted knee source"
        )
        written += save(fig, folder / f"{stem}.png", formats=("png", "pdf"))
    fig = lnA_fit_figure(
        E, bands, points_for(model, pieces, best, "lnA"), "<ln A>: fixed components + fitted knee source"
    )
    written += save(fig, folder / "fig_lnA.png", formats=("png", "pdf"))
    return written


def draw_all(model, parameters, pieces, samples, logp, folder) -> list[Path]:
    """Every fit figure into ``folder``; returns the written paths.  With source groups
    (a multi-species knee source) Figs. 8-9 and <ln A> are :func:`composition_figures`."""
    folder = Path(folder)
    written = corner_figure(samples, parameters, folder / "fig07_corner.png")
    curves = _curves(model, parameters, samples, logp)  # evaluated once for all four figures
    groups = getattr(model, "group_names", None)
    for species, stem, title in SPECIES_FIGURES:
        if groups and species != "H":
            continue
        written += spectrum_figure(
            model,
            parameters,
            pieces,
            samples,
            logp,
            species,
            folder / f"{stem}.png",
            f"{title}: fixed components + fitted knee source",
            curves,
        )
    if groups:
        written += composition_figures(model, parameters, pieces, samples, logp, folder)
    written += anisotropy_figure(model, parameters, pieces, samples, logp, folder / "fit_anisotropy.png", curves)
    return written

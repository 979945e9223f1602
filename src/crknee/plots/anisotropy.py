"""Dipole anisotropy figures: the world compilation (``crknee data plot anisotropy``) and
paper Figs. 4 (phase) and 5 (amplitude) from 100 GeV to 10 EeV with the model.

Data: :func:`crknee.data.anisotropy_compilation` (every measurement once; the Li et al.
2024 figure digitisation only as a cross-check), one marker and colour per experiment,
upper limits as arrows, threshold rows at their threshold with a rightward arrow, phases
(right ascension) wrapped to [-180, 180) deg, the range of the CRDB compilation, with the
part of an error bar beyond +-180 deg drawn from the other edge.

The experiments published different quantities (:mod:`crknee.anisotropy.conventions`).
The compilation figure draws them as published; Figs. 4-5 put them on the model's axis by
dividing each published amplitude by its convention's factor (a first harmonic
r1 = d_perp <cos dec> by <cos dec>), i.e. the equatorial dipole d_perp it implies for a
pure dipole; a 3D dipole |d| (no fixed factor) is drawn as published and labelled so.

Model curves (Figs. 4-5): the equatorial projection (:func:`crknee.anisotropy.equatorial`)
of each component's contribution and of their flux-weighted vector sum
(:func:`crknee.anisotropy.combine`), for each model mode given (isotropic diffusion, the
paper's, and the field-aligned dipole of :class:`crknee.anisotropy.field.FieldAlignment`)
side by side.  Plotting only: the caller computes the physics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crknee.anisotropy import combine, equatorial
from crknee.plots.style import marker, new_figure, save

#: Energy range of Figs. 4-5 [GeV] (100 GeV - 10 EeV).
E_RANGE_GEV = (1e2, 1e10)
#: Log-axis floor of the amplitude panels (lower error bars that reach zero end here).
AMPLITUDE_FLOOR = 1e-5
#: Amplitude axis range (fraction).
AMPLITUDE_RANGE = (AMPLITUDE_FLOOR, 0.5)
#: The paper's anisotropy window [GeV] (Sec. 3: 1 PeV - 2 EeV), shaded in the figures.
PAPER_WINDOW_GEV = (1e6, 2e9)
#: Largest share of the flux a component outside its diffusive regime may carry for the
#: total to be drawn (its dipole then moves the total by less than this fraction).
INVALID_SHARE = 1e-3


@dataclass(frozen=True)
class Component:
    """One curve: label, all-particle flux (N,) and own dipole vectors (N, 3) on a shared
    energy grid (any flux unit common to all components); ``valid`` (N,) False where the
    component's diffusive solution does not hold (its curve is not drawn there)."""

    label: str
    flux: np.ndarray
    dipole: np.ndarray
    valid: np.ndarray | None = None

    def ok(self) -> np.ndarray:
        return np.ones(len(self.flux), bool) if self.valid is None else np.asarray(self.valid, bool)


@dataclass(frozen=True)
class DipolePoints:
    """Measured dipoles of one dataset, ready to draw: energy ``E`` [GeV] with its bin
    (``E_lo``/``E_hi``, NaN if none) and ``threshold`` rows (drawn at E_lo); amplitude and
    its errors (NaN where only a limit is given), upper limit ``amp_ul``; RA ``phase`` [deg]
    and its errors (NaN where not published)."""

    label: str
    E: np.ndarray
    E_lo: np.ndarray
    E_hi: np.ndarray
    threshold: np.ndarray
    amp: np.ndarray
    amp_lo: np.ndarray
    amp_hi: np.ndarray
    amp_ul: np.ndarray
    phase: np.ndarray
    phase_lo: np.ndarray
    phase_hi: np.ndarray
    fit: bool = True


def wrap_phase(phase_deg) -> np.ndarray:
    """Right ascension [deg] wrapped to [-180, 180)."""
    return (np.asarray(phase_deg, dtype=float) + 180.0) % 360.0 - 180.0


def _divisor(convention, label: str, as_published: bool) -> tuple[float, str]:
    """(factor dividing the published amplitude, label); a 3D dipole |d| has no fixed
    factor to d_perp (it depends on the dipole's declination) and is drawn as published."""
    if as_published:
        return 1.0, label
    if convention.kind == "d_3d":
        return 1.0, f"{label} (3D |d|)"
    return convention.factor, label


def _points(label, x, x_lo, x_hi, y, y_lo, y_hi, y_ul, phase, ph_lo, ph_hi, f, fit=True) -> DipolePoints:
    threshold = ~np.isfinite(x) & np.isfinite(x_lo) & ~(np.isfinite(x_hi) & (x_hi < 1e3 * x_lo))
    centre = np.sqrt(x_lo * np.where(np.isfinite(x_hi), x_hi, x_lo))
    E = np.where(np.isfinite(x), x, np.where(threshold, x_lo, centre))
    return DipolePoints(label, E, x_lo, x_hi, threshold, y / f, y_lo / f, y_hi / f, y_ul / f, phase, ph_lo, ph_hi, fit)


def points_from_table(table, as_published: bool = False, label: str | None = None) -> DipolePoints:
    """:class:`DipolePoints` of a canonical anisotropy table (:func:`crknee.data.load`), as
    published or as the d_perp it implies (its meta's convention)."""
    from crknee.anisotropy.conventions import Convention

    def col(name):
        c = table[name]
        return np.asarray(getattr(c, "value", c), dtype=float)

    name = str(table.meta.get("name", "anisotropy"))
    conv = None if as_published else Convention.from_meta(table.meta, name)
    f, label = _divisor(conv, label or name.partition("/")[2] or name, as_published)
    return _points(
        label,
        col("x"),
        col("x_lo"),
        col("x_hi"),
        col("y"),
        col("y_err_lo"),
        col("y_err_hi"),
        col("y_ul"),
        col("phase"),
        col("phase_err_lo"),
        col("phase_err_hi"),
        f,
    )


def points_from_piece(piece) -> DipolePoints | None:
    """:class:`DipolePoints` (d_perp axis) of an anisotropy fit piece
    (:class:`crknee.fit.likelihood.HarmonicPiece`, or "amplitude" / "phase" pieces); None for
    a flux piece."""
    nan = np.full(piece.n_points, np.nan)
    label = piece.name.partition("/")[2] or piece.name
    if piece.observable == "harmonic":
        f, label = _divisor(piece.convention, label, False)
        return _points(
            label,
            piece.E_GeV,
            piece.E_lo_GeV,
            piece.E_hi_GeV,
            piece.y,
            piece.err_lo,
            piece.err_hi,
            piece.y_ul,
            piece.phase,
            piece.phase_err,
            piece.phase_err,
            f,
            piece.fit,
        )
    if piece.observable == "amplitude":
        f, label = _divisor(piece.convention, label, False)
        ul = np.where(piece.upper_limit, piece.y, np.nan)
        y = np.where(piece.upper_limit, np.nan, piece.y)
        return _points(
            label,
            piece.E_GeV,
            piece.E_lo_GeV,
            piece.E_hi_GeV,
            y,
            piece.err_lo,
            piece.err_hi,
            ul,
            nan,
            nan,
            nan,
            f,
            piece.fit,
        )
    if piece.observable == "phase":
        return _points(
            label,
            piece.E_GeV,
            piece.E_lo_GeV,
            piece.E_hi_GeV,
            nan,
            nan,
            nan,
            nan,
            piece.y,
            piece.err_lo,
            piece.err_hi,
            1.0,
            piece.fit,
        )
    return None


def experiment_groups(cross_check: bool = False, as_published: bool = True) -> dict:
    """{experiment label: [DipolePoints, ...]} of :func:`crknee.data.anisotropy_compilation`
    (each measurement once; ``cross_check`` adds the Li et al. 2024 digitisation, labelled
    by its dataset name)."""
    from crknee import data
    from crknee.data.schema import COMPILATION_CRDB

    groups: dict = {}
    for name in data.anisotropy_compilation(cross_check):
        t = data.load(name)
        label = t.meta.get("crdb_experiment") or name.partition("/")[2]
        if t.meta.get("role_hint") == "cross-check" and t.meta.get("compilation") != COMPILATION_CRDB:
            label = f"{name.partition('/')[2]} (cross-check)"
        groups.setdefault(label, []).append(points_from_table(t, as_published, label))
    return groups


def experiment_style(i: int):
    """Marker and colour of the i-th experiment (qualitative palettes; neighbours differ)."""
    import matplotlib.pyplot as plt

    palette = [c for name in ("tab10", "Dark2", "Set1") for c in plt.get_cmap(name).colors]
    return marker(i), palette[(7 * i) % len(palette)]


def draw_points(ax_amp, ax_phase, p: DipolePoints, fmt, color, label=None) -> None:
    """One dataset: amplitude (log axis; limits as arrows; an error bar reaching zero ends at
    the floor) and wrapped phase (the part of a bar beyond +-180 deg drawn from the other
    edge).  Either axis may be None.  Open markers for data that are not fitted."""
    xp = p.E
    binned = np.isfinite(p.E_lo) & np.isfinite(p.E_hi) & ~p.threshold
    xerr = np.vstack([np.where(binned, xp - p.E_lo, 0.0), np.where(binned, p.E_hi - xp, 0.0)])
    style = dict(fmt=fmt, color=color, ms=4, lw=0.8, capsize=0, mfc=None if p.fit else "none")
    if ax_amp is not None:
        m = np.isfinite(p.amp) & (p.amp > 0)
        lo = np.where(p.amp_lo >= p.amp, p.amp - AMPLITUDE_FLOOR, p.amp_lo)
        if m.any():
            ax_amp.errorbar(
                xp[m],
                p.amp[m],
                yerr=[np.nan_to_num(lo[m]), np.nan_to_num(p.amp_hi[m])],
                xerr=xerr[:, m],
                xlolims=p.threshold[m],
                label=label,
                **style,
            )
        ul = np.isfinite(p.amp_ul)
        if ul.any():
            ax_amp.errorbar(
                xp[ul],
                p.amp_ul[ul],
                yerr=0.35 * p.amp_ul[ul],
                uplims=True,
                fmt="_",
                color=color,
                ms=7,
                lw=0.8,
                alpha=0.7,
                label=None if m.any() else label,
            )
    if ax_phase is not None:
        ph = np.isfinite(p.phase)
        if ph.any():
            w = wrap_phase(p.phase[ph])
            plo, phi = np.nan_to_num(p.phase_lo[ph]), np.nan_to_num(p.phase_hi[ph])
            ax_phase.errorbar(
                xp[ph], w, yerr=[plo, phi], xerr=xerr[:, ph], label=label if ax_amp is None else None, **style
            )
            for shift, crosses in ((360.0, w - plo < -180.0), (-360.0, w + phi >= 180.0)):
                if crosses.any():
                    ax_phase.errorbar(
                        xp[ph][crosses],
                        w[crosses] + shift,
                        yerr=[plo[crosses], phi[crosses]],
                        fmt="none",
                        color=color,
                        lw=0.8,
                        capsize=0,
                    )


def draw_groups(ax_amp, ax_phase, groups: dict) -> None:
    """Every group of :func:`experiment_groups` with its own marker and colour."""
    for i, (label, points) in enumerate(groups.items()):
        fmt, color = experiment_style(i)
        for j, p in enumerate(points):
            draw_points(ax_amp, ax_phase, p, fmt, color, label if j == 0 else None)


def _amplitude_axis(ax, ylabel):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(*AMPLITUDE_RANGE)
    ax.set_ylabel(ylabel)


def _phase_axis(ax):
    ax.set_xscale("log")
    ax.set_ylim(-180.0, 180.0)
    ax.set_yticks(np.arange(-180, 181, 60))
    ax.set_ylabel("phase (RA) [deg], wrapped to [-180, 180)")


def compilation_figure(out, cross_check: bool = False):
    """The anisotropy compilation as published: amplitude (log) and RA phase against energy,
    the paper's window shaded, legend in its own column.  Returns the written paths."""
    import matplotlib.pyplot as plt

    from crknee.errors import DataError

    groups = experiment_groups(cross_check, as_published=True)
    if not groups:
        raise DataError("no anisotropy dataset to draw")
    fig = plt.figure(figsize=(13.0, 8.5), constrained_layout=True)
    grid = fig.add_gridspec(2, 2, width_ratios=(3.2, 1.25))
    ax_amp = fig.add_subplot(grid[0, 0])
    ax_phase = fig.add_subplot(grid[1, 0], sharex=ax_amp)
    ax_legend = fig.add_subplot(grid[:, 1])
    draw_groups(ax_amp, ax_phase, groups)
    for ax in (ax_amp, ax_phase):
        ax.axvspan(*PAPER_WINDOW_GEV, color="0.9", zorder=0)
        ax.grid(alpha=0.3, which="major")
    _amplitude_axis(ax_amp, "dipole / first-harmonic amplitude (as published)")
    ax_amp.text(PAPER_WINDOW_GEV[0] * 1.3, 0.3, "paper's window 1 PeV - 2 EeV", fontsize=7, va="top")
    _phase_axis(ax_phase)
    ax_phase.set_xlabel("energy per particle E [GeV] (threshold rows at E_lo with an arrow)")
    plt.setp(ax_amp.get_xticklabels(), visible=False)
    handles, labels = ax_amp.get_legend_handles_labels()
    ax_legend.axis("off")
    ax_legend.legend(
        handles,
        labels,
        loc="upper left",
        ncol=2,
        fontsize=6.5,
        frameon=False,
        borderaxespad=0,
        title="experiment (arrows: upper limits)",
        title_fontsize=7,
    )
    return save(fig, out)


def phase_curve(E, phase_deg):
    """(E, wrapped phase) with NaN inserted where the wrapped curve jumps by > 180 deg, so
    that a line crossing +-180 deg is not drawn across the panel."""
    ph = wrap_phase(phase_deg)
    jumps = np.nonzero(np.abs(np.diff(ph)) > 180.0)[0] + 1
    return np.insert(np.asarray(E, float), jumps, np.nan), np.insert(ph, jumps, np.nan)


def component_curves(components: list[Component], project=None):
    """[(label, contribution to the total dipole (N, 3))] for each component and the total
    (NaN where not drawn); ``project`` (e.g. ``FieldAlignment.project``) maps the vectors
    to what is observed.  The total is drawn where every component carrying more than
    :data:`INVALID_SHARE` of the flux is in its diffusive regime."""
    J_tot, d_tot = combine([c.flux for c in components], [np.nan_to_num(c.dipole) for c in components])
    safe = np.where(J_tot > 0, J_tot, np.inf)[:, None]
    valid = np.logical_and.reduce([c.ok() | (c.flux < INVALID_SHARE * J_tot) for c in components])
    curves = [
        (c.label, np.where(c.ok()[:, None], c.flux[:, None] * np.nan_to_num(c.dipole) / safe, np.nan))
        for c in components
    ] + [("total", np.where(valid[:, None], d_tot, np.nan))]
    return [(label, project(vec) if project is not None else vec) for label, vec in curves]


def plot_anisotropy(
    out_dir,
    E_GeV,
    components: list[Component],
    groups: dict | None = None,
    modes: dict | None = None,
    formats=("png", "pdf"),
):
    """Write ``fig04_anisotropy_phase`` and ``fig05_anisotropy_amplitude`` into ``out_dir``.

    ``modes``: {panel title: projection or None}, one panel each (default: isotropic
    diffusion only); ``groups``: the data (default :func:`experiment_groups` on the d_perp
    axis).  Returns the written paths.
    """
    E = np.asarray(E_GeV, dtype=float)
    modes = modes or {"isotropic diffusion (paper)": None}
    groups = experiment_groups(as_published=False) if groups is None else groups
    written = []
    for column, stem in (("phase", "fig04_anisotropy_phase"), ("amp", "fig05_anisotropy_amplitude")):
        n = len(modes)
        fig, axes = new_figure(4.6 * n + 2.8, 4.8, ncols=n + 1, gridspec_kw={"width_ratios": [4.6] * n + [2.8]})
        for ax, (title, project) in zip(axes[:n], modes.items()):
            draw_groups(ax if column == "amp" else None, ax if column == "phase" else None, groups)
            for label, vec in component_curves(components, project):
                amp, ra = equatorial(np.nan_to_num(vec))
                amp = np.where(np.isfinite(vec[:, 0]) & (amp > 0), amp, np.nan)
                style = dict(
                    lw=2.0 if label == "total" else 1.2,
                    ls="-" if label == "total" else "--",
                    color="k" if label == "total" else None,
                    label=f"{label} (model)",
                )
                if column == "amp":
                    ax.plot(E, amp, **style)
                else:
                    ax.plot(*phase_curve(E, np.where(amp > 1e-12, ra, np.nan)), **style)
            ax.axvspan(*PAPER_WINDOW_GEV, color="0.93", zorder=0)
            if column == "amp":
                _amplitude_axis(ax, r"equatorial dipole $d_\perp$ (data: published / factor)")
            else:
                _phase_axis(ax)
            ax.set_xlim(*E_RANGE_GEV)
            ax.set_xlabel("energy per particle E [GeV]")
            ax.set_title(title, fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        axes[-1].axis("off")
        axes[-1].legend(
            handles,
            labels,
            fontsize=5.5,
            ncol=2,
            loc="center left",
            frameon=False,
            title="experiment (arrows: upper limits)",
            title_fontsize=6,
        )
        written += save(fig, Path(out_dir) / f"{stem}.png", formats)
    return written

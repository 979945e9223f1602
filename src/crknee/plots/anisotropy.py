"""Paper Figs. 4 (dipole phase) and 5 (amplitude) vs energy per particle.

Data: every bundled ``anisotropy/*`` table (equatorial amplitude, RA phase; points with
only a threshold energy are drawn at ``x_lo``; upper limits as downward triangles).
Curves: the equatorial projection (:func:`crknee.anisotropy.equatorial`) of each
component's contribution and of their flux-weighted vector sum
(:func:`crknee.anisotropy.combine`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.anisotropy import combine, equatorial
from crknee.plots.style import marker, new_figure, save


@dataclass(frozen=True)
class Component:
    """One curve: label, all-particle flux (N,) and own dipole vectors (N, 3) on a shared
    energy grid (any flux unit common to all components)."""

    label: str
    flux: np.ndarray
    dipole: np.ndarray


def _data_tables():
    from crknee.data import load, names

    return [(n.split("/", 1)[1], load(n)) for n in names("anisotropy")]


def _draw_data(ax, column):
    for i, (label, t) in enumerate(_data_tables()):
        x = np.where(np.isfinite(t["x"].value), t["x"].value, t["x_lo"].value)
        y = t["y"].value if column == "y" else t["phase"].value
        ok = np.isfinite(x) & np.isfinite(y)
        if not np.any(ok):
            continue
        if column == "y":
            ul = np.asarray(t["upper_limit"], dtype=bool)
            m = ok & ~ul
            ax.errorbar(x[m], y[m], yerr=[t["y_err_lo"].value[m], t["y_err_hi"].value[m]], fmt=marker(i), ms=4,
                        label=label, ls="none")
            ax.plot(x[ok & ul], y[ok & ul], "v", ms=5, color="gray")
        else:
            ax.errorbar(x[ok], y[ok], yerr=[np.nan_to_num(t["phase_err_lo"].value[ok]),
                                            np.nan_to_num(t["phase_err_hi"].value[ok])],
                        fmt=marker(i), ms=4, label=label, ls="none")


def plot_anisotropy(out_dir, E_GeV, components: list[Component], formats=("png", "pdf")):
    """Write ``fig04_anisotropy_phase`` and ``fig05_anisotropy_amplitude`` into ``out_dir``."""
    from pathlib import Path

    E = np.asarray(E_GeV, dtype=float)
    J_tot, d_tot = combine([c.flux for c in components], [c.dipole for c in components])
    curves = [(c.label, c.flux[:, None] * c.dipole / J_tot[:, None]) for c in components] + [("total", d_tot)]
    written = []
    for column, stem, ylabel in (("phase", "fig04_anisotropy_phase", "phase (RA) [deg]"),
                                 ("y", "fig05_anisotropy_amplitude", "equatorial dipole amplitude")):
        fig, ax = new_figure(7.0, 4.8)
        _draw_data(ax, column)
        for label, vec in curves:
            amp, ra = equatorial(vec)
            ra = np.where(amp > 1e-12, ra, np.nan)  # no phase without a dipole
            ax.plot(E, amp if column == "y" else ra, lw=2 if label == "total" else 1.3,
                    ls="-" if label == "total" else "--", label=f"{label} (model)")
        ax.set_xscale("log")
        if column == "y":
            ax.set_yscale("log")
            ax.set_ylim(1e-5, 1.0)
        else:
            ax.set_ylim(0, 360)
        ax.set_xlabel("energy per particle E [GeV]")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=6, ncol=2)
        written += save(fig, Path(out_dir) / f"{stem}.png", formats)
    return written

"""Shared figure style and atomic figure saving for every crknee plot.

The library never selects a matplotlib backend (a notebook keeps its inline one); the
command line, the application, selects Agg (:func:`crknee.cli.main`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from crknee.errors import InputError
from crknee.io import atomic_target

#: Marker cycle: one marker per experiment, as in the paper's figures.
MARKERS = ("o", "s", "^", "v", "D", "<", ">", "p", "h", "*", "P", "X", "d", "8", "H")
#: Energy weighting exponent of the spectra figures (E^2.6 F(E), paper Figs. 3, 6, 8, 9).
SPECTRUM_WEIGHT = 2.6


def new_figure(width: float = 6.4, height: float = 4.8, **kwargs):
    """Return (fig, ax) with crknee's defaults (log axes are set by the caller)."""
    fig, ax = plt.subplots(figsize=(width, height), constrained_layout=True, **kwargs)
    return fig, ax


def marker(i: int) -> str:
    """The i-th experiment's marker."""
    return MARKERS[i % len(MARKERS)]


def save(fig, path, formats=None) -> list[Path]:
    """Save ``fig`` atomically to ``path`` (and to the other ``formats`` beside it).

    ``path`` carries the main suffix (e.g. ``fig01_bc.png``); ``formats`` such as
    ``("png", "pdf")`` writes one file per format with the same stem. Returns the paths.
    Each file is written to a temporary name in the same folder, then renamed
    (:func:`crknee.io.atomic_target`).
    """
    path = Path(path)
    suffixes = [path.suffix.lstrip(".") or "png"] if formats is None else list(formats)
    known = fig.canvas.get_supported_filetypes()
    for fmt in suffixes:
        if fmt.lower() not in known:
            plt.close(fig)
            raise InputError(f"{path}: unknown image format {fmt!r} (use one of {', '.join(sorted(known))})")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in suffixes:
        target = path.with_suffix("." + fmt)
        with atomic_target(target, suffix="." + fmt) as tmp:
            fig.savefig(tmp, format=fmt, dpi=150)
        written.append(target)
    plt.close(fig)
    return written

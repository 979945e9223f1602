"""Synthetic ("mock") data made by the model at a configuration point.

Each piece keeps its energies, errors and upper-limit flags; its values are replaced by
the model's prediction at the truth plus a draw of the piece's own error model (split
normal: the lower error below, the upper error above, each side taken with probability
proportional to its width, Barlow 2004 arXiv:physics/0406120, sec. 3).  Phases are
wrapped into [0, 360) deg.  An upper limit becomes "draw + z(CL) x sigma", the limit an
experiment with that error would quote.  Pieces declared in ``[[fit.mock.extra]]`` (data
that do not exist yet) are drawn the same way, so the constraining power of a planned
anisotropy compilation can be studied before it is added.

A first-harmonic row (:class:`crknee.fit.likelihood.HarmonicPiece`) is drawn as what a
Rayleigh analysis returns: the true harmonic vector plus an isotropic 2D Gaussian of the
row's sigma (Linsley 1975, PRL 34, 1530), i.e. a Rice-distributed amplitude and its phase;
a limit-only row keeps its published limit (its information is the sensitivity it quotes).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from crknee.fit.likelihood import LIMIT_ONLY, VECTOR, HarmonicPiece, Piece


def split_normal(rng: np.random.Generator, err_lo, err_hi) -> np.ndarray:
    """One draw per row from the split normal with widths (err_lo, err_hi) about 0."""
    lo, hi = np.asarray(err_lo, dtype=float), np.asarray(err_hi, dtype=float)
    upper = rng.uniform(size=lo.shape) < hi / (lo + hi)
    return np.abs(rng.standard_normal(lo.shape)) * np.where(upper, hi, -lo)


def mock_pieces(model, truth_values, pieces: list[Piece], seed: int, noise: bool = True) -> list[Piece]:
    """Pieces with values drawn around ``model`` at ``truth_values`` (all parameters, in
    model order), seeded.  ``noise=False`` gives the noiseless ("Asimov") data set: the
    prediction itself (limits at prediction + z(CL) sigma).  Returns new pieces."""
    rng = np.random.default_rng(seed)
    preds = model.bind(pieces)(np.atleast_2d(truth_values))
    out = []
    for piece, pred in zip(pieces, preds):
        truth = piece.observe(pred)[0]
        scale = 1.0 if noise else 0.0
        if isinstance(piece, HarmonicPiece):
            out.append(piece.with_values(_draw_harmonic(rng, piece, truth, scale)))
            continue
        draw = split_normal(rng, piece.err_lo, piece.err_hi) * scale
        if piece.upper_limit.any():
            sig = np.where(piece.err_hi > 0, piece.err_hi, np.abs(piece.y) / ndtri(piece.ul_cl))
            draw = np.where(
                piece.upper_limit, (rng.standard_normal(truth.shape) * scale + ndtri(piece.ul_cl)) * sig, draw
            )
        y = truth + draw
        if piece.observable == "phase":
            y = np.mod(y, 360.0)
        out.append(piece.with_values(y))
    return out


def _draw_harmonic(rng: np.random.Generator, piece: HarmonicPiece, truth, scale: float) -> np.ndarray:
    """(amplitude, phase [deg]) per row: the true harmonic vector plus Gaussian noise of
    the row's sigma in each component; limit-only rows keep their limit."""
    a, ph = truth[..., 0], np.radians(truth[..., 1])
    sigma = np.where(piece.kind == LIMIT_ONLY, 0.0, np.nan_to_num(piece.sigma))
    noise = rng.standard_normal((2,) + a.shape) * sigma * scale
    vx, vy = a * np.cos(ph) + noise[0], a * np.sin(ph) + noise[1]
    phase = np.where(piece.kind == VECTOR, np.degrees(np.arctan2(vy, vx)) % 360.0, np.nan)
    return np.stack([np.hypot(vx, vy), phase], axis=-1)

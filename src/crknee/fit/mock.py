"""Synthetic ("mock") data made by the model at a configuration point.

Each piece keeps its energies, errors and upper-limit flags; its values are replaced by
the model's prediction at the truth plus a draw of the piece's own error model (split
normal: the lower error below, the upper error above, each side taken with probability
proportional to its width, Barlow 2004 arXiv:physics/0406120, sec. 3).  Phases are
wrapped into [0, 360) deg.  An upper limit becomes "draw + z(CL) x sigma", the limit an
experiment with that error would quote.  Pieces declared in ``[[fit.mock.extra]]`` (data
that do not exist yet) are drawn the same way, so the constraining power of a planned
anisotropy compilation can be studied before it is added.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from crknee.fit.likelihood import Piece


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
        truth = pred[0]
        scale = 1.0 if noise else 0.0
        draw = split_normal(rng, piece.err_lo, piece.err_hi) * scale
        if piece.upper_limit.any():
            sig = np.where(piece.err_hi > 0, piece.err_hi, np.abs(piece.y) / ndtri(piece.ul_cl))
            draw = np.where(piece.upper_limit, (rng.standard_normal(truth.shape) * scale + ndtri(piece.ul_cl)) * sig,
                            draw)
        y = truth + draw
        if piece.observable == "phase":
            y = np.mod(y, 360.0)
        out.append(piece.with_values(y))
    return out

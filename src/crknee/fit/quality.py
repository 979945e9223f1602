"""Fit quality per dataset: the deviance of each anisotropy (or flux) dataset at a point.

The deviance of a dataset is -2 ln L at the model relative to the model that reproduces
each of its rows (:func:`crknee.fit.likelihood.deviance`): chi^2 for Gaussian rows, the
squared distance of the harmonic vectors in units of their sigma for first-harmonic rows
(a chi^2 with 2 degrees of freedom per row when the model is right), so datasets of
different conventions and likelihoods can be compared in one table (issue #16, Figs. 4-5).
"""
from __future__ import annotations

import numpy as np
from astropy.table import QTable

from crknee.fit.likelihood import HarmonicPiece, deviance


def degrees_of_freedom(piece) -> int:
    """Rows x measured components: 2 per harmonic vector row, 1 per other row."""
    if isinstance(piece, HarmonicPiece):
        return int(np.sum(np.where(piece.kind == 0, 2, 1)))
    return piece.n_points


def quality_table(models: dict, pieces: list, values) -> QTable:
    """One row per piece: its name, observable, energy range, number of data and degrees of
    freedom, and the deviance at parameter row ``values`` for each model of ``models``
    ({column label: :class:`crknee.fit.model.KneeSourceModel`}, e.g. isotropic and
    field-aligned diffusion)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    columns = {}
    for label, model in models.items():
        preds = model.bind(pieces)(values)
        columns[label] = [float(deviance(p, p.observe(pred))[0]) for p, pred in zip(pieces, preds)]
    e = [np.where(np.isfinite(p.E_GeV), p.E_GeV, p.E_lo_GeV) for p in pieces]
    table = QTable({
        "dataset": [p.name for p in pieces],
        "observable": [p.observable for p in pieces],
        "E_min_GeV": [float(np.nanmin(x)) for x in e],
        "E_max_GeV": [float(np.nanmax(x)) for x in e],
        "n_rows": [p.n_points for p in pieces],
        "dof": [degrees_of_freedom(p) for p in pieces],
        "fitted": [bool(p.fit) for p in pieces],
    })
    for label, col in columns.items():
        table[f"deviance_{label}"] = col
    table.meta["definition"] = ("deviance = -2 ln L(model) + 2 ln L(model reproducing every row); chi^2 for "
                                "Gaussian rows, |v_obs - v_model|^2 / sigma^2 for first-harmonic vectors")
    return table

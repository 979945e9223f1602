"""Fit quality per dataset: the deviance of each anisotropy (or flux) dataset at a point.

The deviance of a dataset is -2 ln L at the model relative to the model that reproduces
each of its rows (:func:`crknee.fit.likelihood.deviance`): chi^2 for Gaussian rows, the
squared distance of the harmonic vectors in units of their sigma for first-harmonic rows
(a chi^2 with 2 degrees of freedom per row when the model is right), so datasets of
different conventions and likelihoods can be compared in one table (issue #16, Figs. 4-5).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from astropy.table import QTable

from crknee.fit.likelihood import HarmonicPiece, deviance


def degrees_of_freedom(piece) -> int:
    """Rows x measured components: 2 per harmonic vector row, 1 per other row."""
    if isinstance(piece, HarmonicPiece):
        return int(np.sum(np.where(piece.kind == 0, 2, 1)))
    return piece.n_points


def subset(piece, keep):
    """The rows ``keep`` (bool mask) of a piece, as a piece of the same kind."""
    keep = np.asarray(keep, dtype=bool)
    if isinstance(piece, HarmonicPiece):
        cols = (
            "E_GeV",
            "E_lo_GeV",
            "E_hi_GeV",
            "y",
            "err_lo",
            "err_hi",
            "phase",
            "phase_err",
            "y_ul",
            "err_reaches_zero",
            "phase_err_missing",
        )
    else:
        cols = ("E_GeV", "E_lo_GeV", "E_hi_GeV", "y", "err_lo", "err_hi", "upper_limit")
    return replace(piece, **{c: getattr(piece, c)[keep] for c in cols})


def quality_table(models: dict, pieces: list, values) -> QTable:
    """One row per piece: its name, observable, energy range, number of data and degrees of
    freedom, and the deviance at parameter row ``values`` for each model of ``models``
    ({column label: :class:`crknee.fit.model.KneeSourceModel`}, e.g. isotropic and
    field-aligned diffusion).  Rows where a model has no prediction (a source outside its
    diffusive regime: c t < 10 d or a mean free path longer than d) are left out of that
    model's deviance and counted in ``undefined_<label>``; ``dof_<label>`` counts the rest."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    columns = {}
    for label, model in models.items():
        dev, dof, undefined = [], [], []
        for p, pred in zip(pieces, model.bind(pieces)(values)):
            observed = p.observe(pred)
            ok = np.all(np.isfinite(observed[0].reshape(p.n_points, -1)), axis=1)
            undefined.append(int(np.sum(~ok)))
            if ok.any():
                part = subset(p, ok)
                dev.append(float(deviance(part, observed[:, ok])[0]))
                dof.append(degrees_of_freedom(part))
            else:
                dev.append(float("nan"))
                dof.append(0)
        columns[label] = (dev, dof, undefined)
    e = [np.where(np.isfinite(p.E_GeV), p.E_GeV, p.E_lo_GeV) for p in pieces]
    table = QTable(
        {
            "dataset": [p.name for p in pieces],
            "observable": [p.observable for p in pieces],
            "E_min_GeV": [float(np.nanmin(x)) for x in e],
            "E_max_GeV": [float(np.nanmax(x)) for x in e],
            "n_rows": [p.n_points for p in pieces],
            "dof": [degrees_of_freedom(p) for p in pieces],
            "fitted": [bool(p.fit) for p in pieces],
        }
    )
    for label, (dev, dof, undefined) in columns.items():
        table[f"deviance_{label}"] = dev
        table[f"dof_{label}"] = dof
        table[f"undefined_{label}"] = undefined
    table.meta["definition"] = (
        "deviance = -2 ln L(model) + 2 ln L(model reproducing every row); chi^2 for "
        "Gaussian rows, |v_obs - v_model|^2 / sigma^2 for first-harmonic vectors; over the "
        "rows where the model is defined (dof_<model>; undefined_<model> rows left out)"
    )
    return table

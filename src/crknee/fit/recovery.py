"""Injection-recovery study: how well the knee source's l and d are recovered from data
with the errors of the fitted datasets (issue 17, item 7).

For each injected position (overrides of base parameter values -- the ``[fit]`` values or
a posterior's MAP -- e.g. the paper's l = 337.4 deg = -22.6 deg, the anti-centre
l = 180 deg, l = 90 deg) and each trial, mock
data are drawn by :func:`crknee.fit.mock.mock_pieces` at that point with every fitted
piece's own error model (the bundled anisotropy and spectrum errors; seeded per trial;
trial ``-1`` is the noiseless "Asimov" data set), and fitted by nested sampling
(:func:`crknee.fit.nested.run_nested`, the problem's priors).  Each recovered parameter
gives one row: truth, median, 16th/84th percentiles, and whether the truth lies inside the
68 % interval (along the circle for a periodic parameter: the wrapped difference from
the median within [-minus, +plus]).

For a calibrated posterior the truth lies inside its 68 % interval in 68 % of the noisy
trials (binomial scatter sqrt(0.68 x 0.32 / n)); :func:`coverage` counts them per position
and parameter.  ``benchmarks/injection_study.py`` runs the study on the pipeline's fixed
components; its results are in docs/evidence.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from crknee.errors import ConfigError

#: The injected positions of docs/evidence.md: the paper's l (Sec. 3), the anti-centre (on
#: the +-180 deg seam of the longitude axis) and l = 90 deg; d, t and the rest at the
#: base values (:func:`injection_recovery`).
POSITIONS = {"paper": {"l_deg": -22.6}, "anti-centre": {"l_deg": 180.0}, "l=90": {"l_deg": 90.0}}
#: The parameters whose recovery is tabulated.
RECOVERED = ("l_deg", "d_kpc")


def injected_values(parameters, overrides: dict, base: dict | None = None) -> np.ndarray:
    """All parameter values (model order): the ``[fit]`` values, replaced by ``base``
    (e.g. a posterior's MAP) and then by ``overrides``; a name that is not a parameter,
    or a value outside its prior, is a ConfigError."""
    values = parameters.full(parameters.truth())[0].copy()
    for name, v in {**(base or {}), **overrides}.items():
        if name not in parameters.names:
            raise ConfigError(f"injected parameter {name!r} is not one of {parameters.names}")
        p = parameters.parameters[parameters.names.index(name)]
        if not p.min <= v <= p.max:
            raise ConfigError(f"injected {name} = {v} is outside its prior [{p.min}, {p.max}]")
        values[parameters.names.index(name)] = v
    return values


def _inside(row, truth: float, period: float | None) -> bool:
    diff = truth - float(row["median"])
    if period:
        diff = (diff + 0.5 * period) % period - 0.5 * period
    return bool(-float(row["minus"]) <= diff <= float(row["plus"]))


def recover(
    problem, overrides: dict, trial: int, settings, path, seed: int = 0, recovered=RECOVERED, base: dict | None = None
) -> list[dict]:
    """One trial: mock data at ``overrides`` (trial -1: noiseless; else drawn with seed
    ``seed + trial``), fitted by nested sampling (checkpoint ``path``); one dict per
    parameter of ``recovered``."""
    from crknee.fit.likelihood import LogPosterior
    from crknee.fit.mock import mock_pieces
    from crknee.fit.nested import run_nested
    from crknee.fit.summary import posterior_table

    ps = problem.parameters
    truth = injected_values(ps, overrides, base)
    pieces = mock_pieces(problem.model, truth, problem.pieces, seed=seed + max(trial, 0), noise=trial >= 0)
    lp = LogPosterior(ps, problem.model, pieces)
    fingerprint = hashlib.sha256(
        json.dumps({"truth": truth.tolist(), "trial": trial, "seed": seed}).encode()
    ).hexdigest()
    res = run_nested(lp.log_likelihood, ps, settings, path, fingerprint=fingerprint)
    rows = {r["parameter"]: r for r in posterior_table(res.samples, res.log_prob, ps)}
    out = []
    for name in recovered:
        p = ps.parameters[ps.names.index(name)]
        t = float(truth[ps.names.index(name)])
        r = rows[name]
        out.append(
            {
                "parameter": name,
                "truth": t,
                "median": float(r["median"]),
                "p16": float(r["p16"]),
                "p84": float(r["p84"]),
                "minus": float(r["minus"]),
                "plus": float(r["plus"]),
                "inside_68": _inside(r, t, p.period if p.periodic else None),
                "at_prior_edge": bool(r["at_prior_edge"]),
                "log_z": res.log_z,
            }
        )
    return out


def _trial(args):
    problem, name, overrides, trial, settings, path, seed, recovered, base = args
    return [
        {"position": name, "trial": trial, **row}
        for row in recover(problem, overrides, trial, settings, path, seed, recovered, base)
    ]


def injection_recovery(
    problem,
    settings,
    folder,
    positions: dict = POSITIONS,
    n_trials: int = 5,
    seed: int = 0,
    asimov: bool = True,
    workers: int = 1,
    recovered=RECOVERED,
    base: dict | None = None,
):
    """The study as an astropy QTable (one row per position, trial and parameter):
    ``n_trials`` noisy trials per position (plus the noiseless one when ``asimov``), each
    checkpointed in ``folder`` (a rerun resumes); ``workers`` > 1 runs the trials in that
    many forked processes.  ``base``: the parameter values every position starts from
    (default: the ``[fit]`` values; the study of docs/evidence.md uses the default
    posterior's MAP, so that the injected source is the fitted one moved to l)."""
    import multiprocessing

    from astropy.table import QTable

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trials = ([-1] if asimov else []) + list(range(n_trials))
    jobs = [
        (problem, name, over, t, settings, folder / f"{name.replace('=', '')}_{t}.ckpt", seed, tuple(recovered), base)
        for name, over in positions.items()
        for t in trials
    ]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            rows = [r for rs in pool.map(_trial, jobs, chunksize=1) for r in rs]
    else:
        rows = [r for job in jobs for r in _trial(job)]
    table = QTable(rows=[tuple(r.values()) for r in rows], names=tuple(rows[0]))
    table.meta.update(
        {
            "seed": seed,
            "nlive": settings.nlive,
            "dlogz": settings.dlogz,
            "notes": "trial -1: noiseless (Asimov) mock; inside_68: truth inside the 68 % interval "
            "(periodic: along the circle)",
        }
    )
    return table


def coverage(table) -> dict:
    """{(position, parameter): (noisy trials with the truth inside the 68 % interval,
    noisy trials)}; the noiseless trial (-1) is not counted."""
    out = {}
    for r in table:
        if int(r["trial"]) < 0:
            continue
        key = (str(r["position"]), str(r["parameter"]))
        n_in, n = out.get(key, (0, 0))
        out[key] = (n_in + bool(r["inside_68"]), n + 1)
    return out

"""Benchmark of crknee.fit: vectorised log-posterior evaluations per second, sampler step
cost (emcee + HDF5 write per step), and optionally the wall time of a converged fit.

    .venv/bin/python benchmarks/bench_fit.py [--fixed FILE] [--converge] [--out DIR]

Workload: the knee-source model on fixed components (``--fixed``: an HDF5 file written
by the pipeline, ``FixedComponents.save``; default: the synthetic power-law fixture of
tests/test_fit_support.py), the 15 LHAASO-like proton energies and 5 anisotropy energies
(amplitude + phase) of that fixture, noiseless mock values at the fixture's truth.
``--converge`` runs the 7-parameter fit (b fixed) to the 50 tau stop rule and reports
its wall time.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from crknee.fit.likelihood import LogPosterior
from crknee.fit.mock import mock_pieces
from crknee.fit.model import FixedComponents, KneeSourceModel
from crknee.fit.sampler import NotConvergedWarning, SamplerSettings, run
from test_fit_support import layout_pieces, parameters, synthetic_fixed


def evals_per_s(lp, ps, batch, seconds=2.0):
    x = ps.initial(np.random.default_rng(0), batch, "prior")
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        lp(x)
        n += batch
    return n / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixed", default=None)
    ap.add_argument("--converge", action="store_true")
    ap.add_argument("--nsteps", type=int, default=60000)
    args = ap.parse_args(argv)
    fixed = FixedComponents.load(args.fixed) if args.fixed else synthetic_fixed()
    model = KneeSourceModel(fixed)
    ps = parameters(fixed=("b_deg",))
    pieces = mock_pieces(model, ps.full(ps.truth())[0], layout_pieces(), seed=1, noise=False)
    lp = LogPosterior(ps, model, pieces)
    out = {
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "n_points": sum(p.n_points for p in pieces),
        "evals_per_s": {str(b): evals_per_s(lp, ps, b) for b in (16, 64, 256)},
    }
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        s = SamplerSettings(nwalkers=32, nsteps=1000, check_every=10**6, progress=False)
        res = run(lp, ps, s, Path(tmp) / "steps.h5")
        out["sampler_ms_per_step_32_walkers"] = 1e3 * res.wall_s / res.iterations
        if args.converge:
            s = SamplerSettings(nwalkers=32, nsteps=args.nsteps, check_every=500, n_tau=50, progress=False)
            res = run(lp, ps, s, Path(tmp) / "conv.h5")
            out["converged_fit"] = {
                "converged": res.converged,
                "steps": res.iterations,
                "wall_s": res.wall_s,
                "max_tau": float(np.max(res.tau)),
                "evals_per_s": res.n_evaluations / res.wall_s,
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

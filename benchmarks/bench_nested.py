"""Benchmark of crknee.fit.nested: nested-sampling evaluations per second and wall time
against the batch size (dynesty queue), and ln Z of an analytic problem against its
exact value.

    .venv/bin/python benchmarks/bench_nested.py [--nlive N]
    .venv/bin/python benchmarks/bench_nested.py --run results [--nlive N] [--dlogz X]

Workloads: (1) the knee-source model on the synthetic fixed components of
tests/test_fit_support.py with its LHAASO-like protons and anisotropy points (noiseless
mock at the fixture's truth, b fixed: 6 free parameters), sampled with the default
``rslice`` to dlogz = 0.5 at batch sizes 1, 16 and 64; (2) a 3-D Gaussian of width 0.5
in the uniform box [-5, 5]^3 (exact ln Z in closed form).  With ``--run DIR`` (a
``crknee reproduce`` output): (3) every knee-source fit of DIR/chains (the default, the
evidence models, the paper's mode) rerun from its fit_section.json and
fixed_components.h5 with ``--nlive``/``--dlogz``: likelihood calls, wall time, ln Z and
its error per model, to choose the nested-sampling settings for the time budget
(docs/evidence.md).  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import erf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from crknee.fit.likelihood import LogPosterior
from crknee.fit.mock import mock_pieces
from crknee.fit.model import KneeSourceModel
from crknee.fit.nested import run_nested
from crknee.fit.parameters import ParameterSet
from crknee.fit.sampler import SamplerSettings
from test_fit_support import layout_pieces, parameters, synthetic_fixed


def knee(nlive: int, folder: Path) -> list[dict]:
    model = KneeSourceModel(synthetic_fixed())
    ps = parameters(fixed=("b_deg",))
    lp = LogPosterior(ps, model, mock_pieces(model, ps.full(ps.truth())[0], layout_pieces(), seed=3))
    out = []
    for batch in (1, 16, 64):
        s = SamplerSettings(method="dynesty", nlive=nlive, dlogz=0.5, batch=batch, progress=False)
        t0 = time.perf_counter()
        r = run_nested(lp.log_likelihood, ps, s, folder / f"knee_{batch}.ckpt")
        wall = time.perf_counter() - t0
        out.append(
            {
                "batch": batch,
                "log_z": r.log_z,
                "log_z_err": r.log_z_err,
                "evaluations": r.n_evaluations,
                "wall_s": round(wall, 2),
                "evaluations_per_s": round(r.n_evaluations / wall),
            }
        )
    return out


def gaussian(nlive: int, folder: Path) -> dict:
    ps = ParameterSet.from_config(
        {f"x{i}_kpc": {"value": 0.0, "min": -5.0, "max": 5.0} for i in range(3)}, {f"x{i}_kpc": "kpc" for i in range(3)}
    )
    s = SamplerSettings(method="dynesty", nlive=nlive, dlogz=0.1, progress=False)
    t0 = time.perf_counter()
    r = run_nested(lambda x: -0.5 * np.sum((x / 0.5) ** 2, axis=1), ps, s, folder / "gauss.ckpt")
    exact = 3 * np.log(np.sqrt(2 * np.pi) * 0.5 / 10.0 * erf(5 / 0.5 / np.sqrt(2)))
    return {
        "log_z": r.log_z,
        "log_z_err": r.log_z_err,
        "exact": exact,
        "pull": (r.log_z - exact) / r.log_z_err,
        "evaluations": r.n_evaluations,
        "wall_s": round(time.perf_counter() - t0, 2),
    }


def pipeline_models(run: Path, nlive: int, dlogz: float, folder: Path) -> dict:
    from dataclasses import replace

    from crknee.fit.driver import FIXED_COMPONENTS_FILE, load_run
    from crknee.fit.model import FixedComponents
    from crknee.fit.schema import problem_from_config

    out = {}
    for sub in sorted(p.parent for p in (run / "chains").glob("*/fit_section.json")):
        section, mock = load_run(sub)
        problem = problem_from_config(section, FixedComponents.load(sub / FIXED_COMPONENTS_FILE))
        lp = LogPosterior(problem.parameters, problem.model, problem.pieces)
        s = replace(
            problem.settings, method="dynesty", nlive=nlive, dlogz=dlogz, progress=False, pool="serial", workers=1
        )
        t0 = time.perf_counter()
        r = run_nested(lp.log_likelihood, problem.parameters, s, folder / f"{sub.name}.ckpt")
        out[sub.name] = {
            "n_free": problem.parameters.ndim,
            "log_z": r.log_z,
            "log_z_err": r.log_z_err,
            "likelihood_calls": r.n_calls,
            "wall_s": round(time.perf_counter() - t0, 1),
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nlive", type=int, default=200)
    ap.add_argument("--dlogz", type=float, default=0.5)
    ap.add_argument("--run", default=None, help="a crknee reproduce output folder: time its knee-source fits")
    args = ap.parse_args()
    if args.run:
        with tempfile.TemporaryDirectory() as tmp:
            print(
                json.dumps(
                    {
                        "nlive": args.nlive,
                        "dlogz": args.dlogz,
                        "models": pipeline_models(Path(args.run), args.nlive, args.dlogz, Path(tmp)),
                    },
                    indent=1,
                )
            )
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            "machine": f"{platform.processor() or platform.machine()}, shared (timings noisy)",
            "gaussian_3d": gaussian(args.nlive, Path(tmp)),
            "knee_model": knee(args.nlive, Path(tmp)),
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

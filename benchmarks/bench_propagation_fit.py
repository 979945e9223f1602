"""Benchmark of crknee.fit.propagation: log-posterior evaluations per second of the default
problem (Li ... O network at the fit resolution, AMS-02 B/C, B/O, Be/B, Li/C, C, O, p, He,
15 free parameters) serially and split over a process pool (in batches of half the
ensemble, as emcee sends them, the log-posterior preloaded in the workers as in the fit),
and the speed-up of the fit
resolution over a solve of the same problem at the default resolution (40 modes, 20 / decade,
Fe56 network).

    .venv/bin/python benchmarks/bench_propagation_fit.py [--n 64] [--workers 2]
    .venv/bin/python benchmarks/bench_propagation_fit.py --converge DIR

Prints one JSON object.  ``--converge DIR`` instead runs the whole default fit
(:func:`crknee.fit.propagation.run.fit`, no figures) into the empty folder DIR and prints its
wall time to convergence (the 50-tau rule), steps, tau and evaluation rate: ~11 minutes on
the quiet 2-core machine (docs/propagation_fit.md), so ``make bench`` does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from crknee.fit.pools import open_pool, wrap
from crknee.fit.propagation.model import LogPosterior, problem_from_settings
from crknee.fit.propagation.settings import load_settings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64, help="points per timing")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--converge", metavar="DIR", help="run the whole default fit into DIR (must be empty)")
    args = ap.parse_args()
    if args.converge:
        return converge(args.converge)
    problem = problem_from_settings(load_settings())
    lp = LogPosterior(problem.model, problem.parameters)
    rng = np.random.default_rng(0)
    theta = problem.parameters.initial(rng, args.n, "ball", 0.02)
    lp(theta[:2])
    t0 = time.perf_counter()
    lp(theta)
    serial = time.perf_counter() - t0
    half = problem.sampler.nwalkers // 2
    with open_pool("process", args.workers, "", (lp,)) as pool:
        f = wrap(lp, pool, args.workers)
        f(theta[: args.workers])
        t0 = time.perf_counter()
        for start in range(0, args.n, half):
            f(theta[start : start + half])
        pooled = time.perf_counter() - t0
    # one solve at the default resolution (the whole network) vs the fit resolution
    from crknee.propagation.model import PropagationModel
    from crknee.propagation.solution import Q_UNIT, solve

    solve(PropagationModel())
    t0 = time.perf_counter()
    solve(PropagationModel(), norms=np.ones(3) * Q_UNIT)
    default_solve = time.perf_counter() - t0
    full = problem.parameters.full(theta[:1])[0]
    t0 = time.perf_counter()
    for _ in range(5):
        problem.model.solution(full)
    fit_solve = (time.perf_counter() - t0) / 5
    print(
        json.dumps(
            {
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
                f"load {os.getloadavg()[0]:.1f}",
                "n_free": problem.parameters.ndim,
                "n_points": int(sum(o.R_GV.size for o in problem.observables)),
                "serial_evaluations_per_s": round(args.n / serial, 1),
                f"process_{args.workers}_evaluations_per_s": round(args.n / pooled, 1),
                "fit_resolution_solve_ms": round(1e3 * fit_solve, 1),
                "default_resolution_solve_ms": round(1e3 * default_solve, 1),
                "speed_up_solve": round(default_solve / fit_solve, 1),
            },
            indent=1,
        )
    )


def converge(out):
    """The whole default fit into ``out`` (empty: no chain to resume), timed end to end."""
    from pathlib import Path

    from crknee.fit.propagation.run import fit

    if Path(out).exists() and any(Path(out).iterdir()):
        raise SystemExit(f"{out} is not empty: a chain there would be resumed, not timed")
    t0 = time.perf_counter()
    summary, _ = fit(None, out, progress=False)
    wall = time.perf_counter() - t0
    s = summary["sampler"]
    print(
        json.dumps(
            {
                "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
                f"load {os.getloadavg()[0]:.1f} at the end",
                "wall_s_end_to_end": round(wall, 1),
                "start_s": round(s["start"]["wall_s"], 1),
                "chain_s": round(s["wall_s"], 1),
                "converged": s["converged"],
                "steps": s["iterations"],
                "n_tau_reached": round(s["n_tau_reached"], 1),
                "tau_max": round(max(s["tau"]), 1),
                "walker_positions_per_s": round(s["evaluations_per_s"], 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()

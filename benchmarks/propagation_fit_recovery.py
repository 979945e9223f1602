"""Injection-recovery study of crknee.fit.propagation (issue 15, tests): how often the
posterior's central 68 % interval contains the injected value.

Mock B/C, B/O, C and O (AMS-02 rigidities and errors, 5-500 GV; correlated systematics, exponential
kernel, 0.3 dex) are made by the solver (O16 network, coarse: 4 modes, 6 points / decade)
at the config's default values, with Gaussian noise drawn from the covariance
(crknee.fit.propagation.mock); the free parameters D0, delta, v_A and the B production
nuisance xs_B (prior N(1, 0.2)) are sampled by crknee.fit.sampler (emcee, DE moves,
walkers started at the MAP) for ``--steps`` steps; the first half is discarded.

    .venv/bin/python benchmarks/propagation_fit_recovery.py [--trials 8] [--steps 300] [--first 0]

Prints, per parameter, the number of trials whose 68 % interval holds the truth (expected
68 %), and one JSON line per trial.  Results: docs/propagation_fit.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from crknee.fit.propagation.mock import mock_problem
from crknee.fit.propagation.model import LogPosterior, problem_from_settings
from crknee.fit.propagation.settings import load_settings
from crknee.fit.propagation.start import centred_on, maximum_a_posteriori
from crknee.fit.sampler import run

FREE = ("D0_1e28_cm2_s", "delta", "vA_km_s", "xs_B")


def problem():
    s = load_settings()
    s.update(
        heaviest="O16",
        n_modes=4,
        points_per_decade=6,
        ekn_min_GeV=0.1,
        ekn_max_GeV=3.0e3,
        datasets=[
            {"name": n, "window_GV": [5.0, 500.0]}
            for n in ("bc/AMS02_2021_PhysRep", "ratio/AMS02_B_O", "nuclei/AMS02_C", "nuclei/AMS02_O")
        ],
    )
    for name, spec in s["parameters"].items():
        if name not in FREE:
            s["parameters"][name] = {k: v for k, v in spec.items() if k not in ("mu", "sigma")} | {"prior": "fixed"}
    s["sampler"].update(nwalkers=16, pool="serial", workers=1, check_every=50, progress=False)
    return problem_from_settings(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--first", type=int, default=0, help="index of the first trial (its noise seed is 1000 + index)")
    args = ap.parse_args()
    p = problem()
    truth = p.parameters.truth()
    truth_all = p.parameters.full(truth)[0]
    hits = np.zeros(len(FREE), dtype=int)
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for trial in range(args.first, args.first + args.trials):
            t0 = time.perf_counter()
            mp = mock_problem(p, truth_all, np.random.default_rng(1000 + trial))
            lp = LogPosterior(mp.model, mp.parameters)
            best, _ = maximum_a_posteriori(lp, mp.parameters, 400)
            ps = centred_on(mp.parameters, best)
            settings = replace(mp.sampler, nsteps=args.steps, n_tau=1e9, seed=trial)
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = run(lp, ps, settings, Path(tmp) / f"t{trial}.h5")
            from emcee.backends import HDFBackend

            chain = HDFBackend(str(Path(tmp) / f"t{trial}.h5"), name="mcmc", read_only=True).get_chain(
                discard=args.steps // 2, flat=True
            )
            lo, hi = np.percentile(chain, [15.87, 84.13], axis=0)
            inside = (lo <= truth) & (truth <= hi)
            hits += inside
            print(
                json.dumps(
                    {
                        "trial": trial,
                        "inside": dict(zip(FREE, inside.tolist())),
                        "median": dict(zip(FREE, np.median(chain, axis=0).round(4).tolist())),
                        "tau_max": float(np.nanmax(res.tau)),
                        "wall_s": round(time.perf_counter() - t0, 1),
                    }
                ),
                flush=True,
            )
    print(
        json.dumps(
            {
                "trials": args.trials,
                "steps": args.steps,
                "truth": dict(zip(FREE, truth.tolist())),
                "inside_68": dict(zip(FREE, hits.tolist())),
                "wall_s": round(time.perf_counter() - t_all, 1),
            }
        )
    )


if __name__ == "__main__":
    main()

"""``crknee fit propagation``: validate, start at the MAP, sample, summarise, write.

Samplers are crknee.fit's: emcee with the resumable, checksummed HDF5 chain and the
50-tau stop rule (:func:`crknee.fit.sampler.run`, ``method = "emcee"``) or dynesty with
its verified checkpoint (:func:`crknee.fit.nested.run_nested`, ``method = "dynesty"``);
pools from :mod:`crknee.fit.pools` (``--scheduler ADDR``: dask on that scheduler).
Rerunning on the same folder resumes the chain.  Outputs: :mod:`.outputs`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

CHAIN_FILE = "chain.h5"
NESTED_FILE = "nested.ckpt"
#: The adapted independence proposal of the kept chain (crknee.fit.propagation.proposal),
#: reused when the chain is resumed.
PROPOSAL_FILE = "proposal.json"


def fingerprint(settings: dict) -> str:
    """SHA-256 of the validated settings (data, priors, resolution) as canonical JSON."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def _problem_fingerprint(problem) -> str:
    """Fingerprint of what the proposal depends on: the settings less the emcee run length."""
    keep = {k: v for k, v in problem.settings.items() if k != "sampler"}
    keep["walkers_seed"] = (problem.sampler.nwalkers, problem.sampler.seed)
    return fingerprint(keep)


def save_proposal(path: Path, problem, move) -> None:
    """Write the adapted proposal (atomically) with the problem's fingerprint."""
    from crknee.io import atomic_target

    doc = {
        "fingerprint": _problem_fingerprint(problem),
        "names": problem.parameters.free_names,
        "mean": move.mean.tolist(),
        "cov": move.cov.tolist(),
        "scale": move.scale,
        "df": move.df,
    }
    with atomic_target(path, ".json") as tmp:
        Path(tmp).write_text(json.dumps(doc), encoding="utf-8")


def load_proposal(path: Path, problem):
    """The saved proposal if it belongs to this problem and is well formed, else None
    (then the MAP and the pilot run again)."""
    from crknee.fit.propagation.proposal import IndependenceMove

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        names = problem.parameters.free_names
        mean, cov = np.array(doc["mean"], dtype=float), np.array(doc["cov"], dtype=float)
        ok = (
            doc["fingerprint"] == _problem_fingerprint(problem)
            and list(doc["names"]) == list(names)
            and mean.shape == (len(names),)
            and cov.shape == (len(names),) * 2
            and np.all(np.isfinite(mean))
            and np.all(np.isfinite(cov))
            and np.allclose(cov, cov.T)
        )
        return IndependenceMove(mean, cov, float(doc["scale"]), float(doc["df"])) if ok else None
    except (OSError, ValueError, KeyError, TypeError, np.linalg.LinAlgError):
        return None


def sample(problem, out: Path, progress: bool = True):
    """Run the configured sampler into ``out``: (samples, log_prob, sampling record)."""
    from crknee.fit.nested import run_nested
    from crknee.fit.pools import open_pool, wrap
    from crknee.fit.propagation.model import LogPosterior
    from crknee.fit.propagation.proposal import IndependenceMove, adapt, laplace_covariance, mixture
    from crknee.fit.propagation.start import centred_on, maximum_a_posteriori
    from crknee.fit.sampler import run
    from crknee.fit.summary import read_chain

    s = replace(problem.sampler, progress=progress)
    record = {"method": s.method, "pool": s.pool, "workers": s.workers, "scheduler": s.scheduler}
    t0 = time.perf_counter()
    if s.method == "dynesty":
        res = run_nested(
            LogPosterior(problem.model, problem.parameters, prior=False),
            problem.parameters,
            s,
            out / NESTED_FILE,
            fingerprint(problem.settings),
        )
        record.update(res.evidence(), n_evaluations=res.n_evaluations, wall_s=res.wall_s, converged=True)
        return res.samples, res.log_prob, record
    log_post = LogPosterior(problem.model, problem.parameters)
    chain = out / CHAIN_FILE
    parameters = problem.parameters
    n_start = problem.settings["start_evaluations"]
    moves = draw = None
    weight = problem.settings["laplace_weight"]
    saved = load_proposal(out / PROPOSAL_FILE, problem) if chain.exists() and weight > 0 else None
    if saved is not None:  # resuming: the kept chain's own proposal
        moves = mixture(saved, weight, parameters)
    elif n_start > 0 and (not chain.exists() or weight > 0):
        t = time.perf_counter()
        with open_pool(s.pool, s.workers, s.scheduler, (log_post,)) as mapper:
            pooled = wrap(log_post, mapper, getattr(mapper, "size", s.workers))
            best, lp = maximum_a_posteriori(pooled, parameters, n_start)
            parameters = centred_on(parameters, best)
            record["start"] = {"map": dict(zip(parameters.free_names, best.tolist())), "log_post": lp}
            if weight > 0:
                move = IndependenceMove(best, laplace_covariance(pooled, parameters, best))
                rounds, steps = problem.settings["pilot_rounds"], problem.settings["pilot_steps"]
                move, coords, n_pilot, lp_rounds = adapt(
                    pooled, parameters, move, s.nwalkers, rounds, steps, weight, s.seed
                )
                save_proposal(out / PROPOSAL_FILE, problem, move)
                moves, draw = mixture(move, weight, parameters), (lambda rng, n: coords[:n].copy())
                record["start"].update(
                    pilot_evaluations=n_pilot,
                    pilot_log_post_median=lp_rounds,
                    proposal_sd=dict(zip(parameters.free_names, np.sqrt(np.diag(move.cov)).tolist())),
                )
        record["start"]["wall_s"] = time.perf_counter() - t
    res = run(log_post, parameters, s, chain, moves=moves, draw=draw)
    samples, logp, _ = read_chain(chain, res.tau)
    record.update(
        iterations=res.iterations,
        converged=res.converged,
        tau=res.tau.tolist(),
        n_tau_reached=res.n_tau_reached,
        n_evaluations=res.n_evaluations,
        wall_s=res.wall_s,
        acceptance=float(np.mean(res.acceptance_fraction)),
        nwalkers=s.nwalkers,
        n_tau_rule=s.n_tau,
    )
    record["total_wall_s"] = time.perf_counter() - t0
    return samples, logp, record


def fit(config=None, out=".", scheduler: str | None = None, progress: bool = True):
    """The whole fit: returns (the summary written to ``OUT/fit_summary.json``, the
    :class:`crknee.fit.propagation.outputs.FigureInputs` that the caller may draw with
    :func:`crknee.plots.propagation_fit.draw_all`)."""
    from crknee.fit.propagation.model import problem_from_settings
    from crknee.fit.propagation.outputs import write_outputs
    from crknee.fit.propagation.settings import load_settings

    settings = load_settings(config)
    problem = problem_from_settings(settings)
    if scheduler:
        problem.sampler = replace(problem.sampler, pool="dask", scheduler=scheduler)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples, logp, record = sample(problem, out, progress)
    if record.get("n_evaluations") and record.get("wall_s"):
        record["evaluations_per_s"] = record["n_evaluations"] / record["wall_s"]
    return write_outputs(problem, samples, logp, record, out, config=config)

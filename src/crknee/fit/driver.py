"""One fit from a ``[fit]`` section to files: chain, posterior table, summary, figures.

Files written in the output folder (atomically, except the chain, which is the resumable
HDF5 file of :mod:`crknee.fit.sampler`):

- ``chain.h5``: the emcee chain (rerun the same command to resume or extend it), or
  ``nested.ckpt``: the verified dynesty checkpoint (``method = "dynesty"``, with the evidence);
- ``posterior.ecsv``: median, 16th/84th percentiles, MAP, prior interval, prior-dominated flag;
- ``fit_summary.json``: active / check / inactive constraints, convergence (tau, steps),
  evaluations per second, wall time, mock truth;
- ``fit_section.json``: the validated ``[fit]`` section that was run (for ``crknee plot fit``).

The fit draws nothing and knows no published result (inference layer): the caller draws
(:func:`crknee.plots.fit.draw_all`, as ``crknee fit knee`` and the pipeline do) and may
pass a reference posterior (e.g. the paper's, :func:`crknee.paper.knee_source_signed_l`)
to :func:`format_summary`.
"""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np

from crknee.errors import ConfigError
from crknee.fit.likelihood import LogPosterior
from crknee.fit.mock import mock_pieces
from crknee.fit.model import FixedComponents
from crknee.fit.nested import load_nested, run_nested
from crknee.fit.sampler import run
from crknee.fit.schema import problem_from_config
from crknee.fit.summary import posterior_table, read_chain
from crknee.io import atomic_write_json, atomic_write_table

FIXED_COMPONENTS_FILE = "fixed_components.h5"
#: The nested-sampling checkpoint of a run with ``method = "dynesty"`` (crknee.fit.nested).
NESTED_CHECKPOINT = "nested.ckpt"


def load_section(path=None) -> dict:
    """The ``[fit]`` table of a TOML file, or the section a finished run recorded in its
    ``fit_section.json`` (so ``problem_from_config(load_section("RUN/fit_section.json"),
    fixed)`` rebuilds that run's problem); without a path, of the bundled paper config."""
    if path is not None and Path(path).suffix.lower() == ".json":
        return load_run(Path(path).parent if Path(path).name == "fit_section.json" else path)[0]
    if path is not None:
        try:
            doc = tomllib.loads(Path(path).read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        if "fit" not in doc:
            raise ConfigError(f"{path}: no [fit] section")
        return doc["fit"]
    from importlib.resources import files

    paper = files("crknee") / "configs" / "paper.toml"
    return tomllib.loads(paper.read_text())["fit"]


def fit_pieces(problem, mock: bool) -> list:
    """The problem's pieces, or with ``mock`` their synthetic version plus the
    ``[[fit.mock.extra]]`` pieces, drawn at the parameters' values with the mock seed."""
    if not mock:
        return problem.pieces
    ps = problem.parameters
    return mock_pieces(problem.model, ps.full(ps.truth())[0], problem.pieces + problem.mock_extra, problem.mock_seed)


def fit(section: dict, fixed: FixedComponents, out, *, mock: bool = False, progress: bool = True) -> dict:
    """Run (or resume) the fit declared by ``section`` on ``fixed`` into folder ``out``;
    return the summary dict (also written to ``fit_summary.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    problem = problem_from_config(section, fixed)
    ps, model = problem.parameters, problem.model
    truth = ps.full(ps.truth())[0]
    pieces = fit_pieces(problem, mock)
    settings = replace(problem.settings, progress=progress and problem.settings.progress)
    lp = LogPosterior(ps, model, pieces)
    atomic_write_json(out / "fit_section.json", {"section": section, "mock": mock})
    t0 = time.perf_counter()
    if settings.method == "dynesty":
        fingerprint = hashlib.sha256(
            json.dumps({"section": section, "mock": mock}, sort_keys=True, default=str).encode()
        ).hexdigest()
        result = run_nested(lp.log_likelihood, ps, settings, out / NESTED_CHECKPOINT, fingerprint=fingerprint)
        samples, logp = result.samples, result.log_prob
    else:
        result = run(lp, ps, settings, out / "chain.h5")
        samples, logp, _ = read_chain(out / "chain.h5", result.tau)
    wall = time.perf_counter() - t0
    table = posterior_table(samples, logp, ps, problem.prior_dominated_ratio)
    atomic_write_table(table, out / "posterior.ecsv")
    rows = {r["parameter"]: r for r in table}
    summary = {
        "method": settings.method,
        "active_constraints": [p.describe() for p in pieces if p.fit],
        "checks": [p.describe() for p in pieces if not p.fit],
        "inactive_datasets": problem.inactive,
        "anisotropy_active": any(p.fit and p.observable != "flux" for p in pieces),
        "mock": mock,
        "truth": dict(zip(ps.names, map(float, truth))) if mock else None,
        "fixed_parameters": {p.name: p.value for p in ps.parameters if not p.free},
        "posterior": {
            n: {
                "median": float(r["median"]),
                "p16": float(r["p16"]),
                "p84": float(r["p84"]),
                "minus": float(r["minus"]),
                "plus": float(r["plus"]),
                "map": float(r["map"]),
                "unit": str(r["unit"]),
                "width_ratio": float(r["width_ratio"]),
                "prior_dominated": bool(r["prior_dominated"]),
                "at_prior_edge": bool(r["at_prior_edge"]),
                "edge": str(r["edge"]),
            }
            for n, r in rows.items()
        },
        "prior_dominated": [n for n, r in rows.items() if r["prior_dominated"]],
        "at_prior_edge": {n: str(r["edge"]) for n, r in rows.items() if r["at_prior_edge"]},
        "n_samples": int(samples.shape[0]),
        "wall_s": wall,
    }
    if settings.method == "dynesty":
        # the run stops only when the live points can add < dlogz to ln Z (no maxiter here)
        summary.update(
            converged=True,
            evidence=result.evidence(),
            nlive=settings.nlive,
            dlogz=settings.dlogz,
            bound=settings.bound,
            nested_sample=settings.nested_sample,
            iterations=int(result.iterations),
            log_prob_evaluations=int(result.n_calls),
            evaluations_per_s=(
                float(result.n_evaluations / result.wall_s) if result.n_evaluations and result.wall_s > 0 else None
            ),
        )
    else:
        summary.update(
            converged=bool(result.converged),
            iterations=int(result.iterations),
            nwalkers=settings.nwalkers,
            tau=dict(zip(ps.free_names, map(float, result.tau))),
            n_tau_reached=result.n_tau_reached,
            n_tau_required=settings.n_tau,
            acceptance_fraction=float(np.mean(result.acceptance_fraction)),
            log_prob_evaluations=int(result.n_evaluations),
            evaluations_per_s=float(result.n_evaluations / result.wall_s) if result.wall_s > 0 else None,
        )
    atomic_write_json(out / "fit_summary.json", summary)
    return summary


def format_summary(summary: dict, reference: dict | None = None, label: str = "paper") -> str:
    """A short human-readable report of :func:`fit`'s summary; ``reference``: a published
    posterior {parameter: (median, minus, plus)} printed beside each parameter under
    ``label`` (e.g. :func:`crknee.paper.knee_source_signed_l`)."""
    reference = reference or {}
    lines = ["active constraints:"] + [f"  {s}" for s in summary["active_constraints"]]
    if summary["checks"]:
        lines += ["checks (drawn, not fitted):"] + [f"  {s}" for s in summary["checks"]]
    if summary["inactive_datasets"]:
        lines += ["inactive (no point in window):"] + [f"  {s}" for s in summary["inactive_datasets"]]
    if not summary["anisotropy_active"]:
        lines.append("no anisotropy constraint is active: l and b are set by the prior alone")
    lines.append(f"{'parameter':<12} {'median':>10} {'-':>9} {'+':>9} {'MAP':>10}  {label if reference else ''}")
    for n, r in summary["posterior"].items():
        pub = reference.get(n)
        ref = f"{pub[0]:.3g} +{pub[2]:.2g} -{pub[1]:.2g}" if pub else ""
        flags = [f"at prior edge: {r['edge']}"] if r.get("at_prior_edge") else []
        flags += ["prior-dominated"] if r["prior_dominated"] else []
        flag = f"  ({'; '.join(flags)})" if flags else ""
        lines.append(
            f"{n:<12} {r['median']:>10.4g} {r['minus']:>9.3g} {r['plus']:>9.3g} {r['map']:>10.4g}  {ref}{flag}"
        )
    if summary.get("method") == "dynesty":
        ev = summary["evidence"]
        lines.append(
            f"nested sampling (dynesty): ln Z = {ev['log_z']:.3f} +- {ev['log_z_err']:.3f}, {summary['nlive']} live "
            f"points, {summary['iterations']} iterations, {summary['log_prob_evaluations']} likelihood calls, "
            f"effective sample size {ev.get('n_effective', float('nan')):.0f}; {summary['wall_s']:.1f} s"
        )
    else:
        conv = "converged" if summary["converged"] else "NOT converged"
        lines.append(
            f"{summary['iterations']} steps x {summary['nwalkers']} walkers ({conv}: "
            f"{summary['n_tau_reached']:.1f} x max tau = {np.nanmax(list(summary['tau'].values())):.1f}, "
            f"needs {summary['n_tau_required']:g}; acceptance {summary['acceptance_fraction']:.3f}); "
            f"{summary['evaluations_per_s']:.3g} log-prob evaluations/s; {summary['wall_s']:.1f} s"
        )
    return "\n".join(lines)


def run_samples(out, problem) -> tuple[np.ndarray, np.ndarray]:
    """(equally weighted samples, their log-posteriors) of a finished run in ``out``: the
    emcee chain after burn-in and thinning, or the nested-sampling checkpoint's."""
    out = Path(out)
    if problem.settings.method == "dynesty":
        result = load_nested(out / NESTED_CHECKPOINT, problem.parameters, problem.settings)
        return result.samples, result.log_prob
    samples, logp, _ = read_chain(out / "chain.h5")
    return samples, logp


def load_run(out) -> tuple[dict, bool]:
    """The ``[fit]`` section and mock flag a finished run used: ``out`` is its folder or its
    ``fit_section.json``."""
    path = Path(out) if Path(out).suffix.lower() == ".json" else Path(out) / "fit_section.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path.parent}: no fit_section.json (not a crknee fit output folder)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a fit_section.json written by crknee ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("section"), dict):
        raise ConfigError(f"{path}: not a fit_section.json written by crknee (no 'section' table)")
    return doc["section"], bool(doc.get("mock", False))

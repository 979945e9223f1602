"""What ``crknee fit propagation`` writes (all atomically, crknee.io):

* ``posterior.ecsv``: one row per free parameter (median, 16/84 %, MAP, prior interval,
  prior-dominated and prior-edge flags; crknee.fit.summary.posterior_table) with a
  ``unit`` column and the provenance in its meta (crknee version, datasets with their
  references, covariance model, sampler record, settings fingerprint);
* ``bands.ecsv``: every fitted observable's 2.5/16/50/84/97.5 % posterior band on a
  rigidity grid; ``fit_quality.ecsv``: chi2 per dataset at the posterior median;
* ``checks.ecsv``: chi2 of data NOT fitted (N, Ne, Mg, Si, Fe, F/Si, Fe/O, Li) against the
  full network (``check_heaviest``) at the posterior median;
* ``propagation_posterior.toml``: the posterior medians as ``[propagation]`` keys, which
  every crknee command's ``--config`` accepts (e.g. the knee-source fit);
* ``fit_summary.json`` and ``report.md`` (comparison with Table 1 and with the published fits of
  :mod:`crknee.fit.propagation.published`: ``published_comparison`` in the summary);
* figures: ``figures/corner.png``, ``figures/fit_bands.png``, ``figures/checks.png``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import QTable, Table

from crknee.fit.propagation.published import compare as compare_published
from crknee.io import atomic_write_json, atomic_write_table, atomic_write_text

#: Paper Table 1 (the background model's parameters) and its B/C chi2 quoted in issue 15.
TABLE1 = {"D0_1e28_cm2_s": 3.2, "delta": 0.33, "vA_km_s": 25.0, "nu1": 2.48, "nu2": 2.38, "Rbr_GV": 335.0}
TABLE1_BC_CHI2, TABLE1_BC_POINTS = 728.0, 67
_PERCENTILES = (2.5, 16.0, 50.0, 84.0, 97.5)
#: fit parameter -> [propagation] config key and factor to the key's unit
_CONFIG_KEYS = {
    "D0_1e28_cm2_s": ("D0_cm2_s", 1e28),
    "delta": ("delta", 1.0),
    "eta": ("eta", 1.0),
    "vA_km_s": ("vA_km_s", 1.0),
    "Vc_km_s": ("Vc_km_s", 1.0),
    "H_kpc": ("H_kpc", 1.0),
    "Rb_GV": ("Rb_GV", 1.0),
    "Delta_delta": ("Delta_delta", 1.0),
    "s_b": ("s_b", 1.0),
    "nu1": ("nu1", 1.0),
    "nu2": ("nu2", 1.0),
    "Rbr_GV": ("Rbr_GV", 1.0),
    "phi_MV": ("phi_MV", 1.0),
}


def fixed_values(parameters) -> dict:
    """{name: value} of the fixed parameters (e.g. H_kpc, the halo height D0 scales with)."""
    return {p.name: float(p.value) for p in parameters.parameters if not p.free}


def median_values(parameters, samples) -> np.ndarray:
    """All parameters (model order) at the posterior median of the free ones."""
    return parameters.full(np.median(samples, axis=0)[None])[0]


def posterior_toml(parameters, values) -> str:
    """``[propagation]`` keys at ``values`` (all parameters, model order)."""
    v = dict(zip(parameters.names, values))
    lines = [
        "# Posterior medians of `crknee fit propagation` as [propagation] keys (give to --config).",
        "# Source abundances, proton index offset and cross-section nuisances are fit-only:",
        "# see posterior.ecsv.",
        "[propagation]",
    ]
    for name, (key, factor) in _CONFIG_KEYS.items():
        lines.append(f"{key} = {v[name] * factor:.6g}")
    return "\n".join(lines) + "\n"


def _draws(samples, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return samples[rng.choice(len(samples), size=min(n, len(samples)), replace=False)]


def _grids(observables, n: int = 60):
    return [np.geomspace(o.R_GV.min(), o.R_GV.max(), n) for o in observables]


def bands(problem, samples):
    """(grids, percentile arrays (5, n) per dataset) over ``band_samples`` posterior draws."""
    grids = _grids(problem.observables)
    full = problem.parameters.full(_draws(samples, problem.settings["band_samples"]))
    curves = [problem.model.curves(v, grids) for v in full]
    return grids, [np.percentile(np.array([c[k] for c in curves]), _PERCENTILES, axis=0) for k in range(len(grids))]


def _quality(names_points, chi2, title_col="dataset") -> Table:
    rows = [(n, int(k), float(chi2[n])) for n, k in names_points]
    t = (
        Table(rows=rows, names=(title_col, "n_points", "chi2"))
        if rows
        else Table(names=(title_col, "n_points", "chi2"))
    )
    return t


def checks(problem, values):
    """Data not fitted vs the full network at ``values``: (observables, evaluation record,
    chi2 per check, Li/C chi2 with the Li nuisance at its prior mean)."""
    from crknee.fit.propagation.data import observables as build
    from crknee.fit.propagation.model import PropagationFitModel, network_elements, prepared_solver

    s = problem.settings
    if not s.get("checks"):
        return None
    solver = prepared_solver(s, heaviest=s["check_heaviest"])
    elements = network_elements(solver.network)
    fitted = PropagationFitModel(
        solver,
        problem.observables,
        problem.parameters.names,
        s["sys_correlation_length_dex"],
        s["sys_correlation_kernel"],
    )
    obs = build(s["checks"], "propagation_fit.checks", elements)
    model = PropagationFitModel(
        solver, obs, problem.parameters.names, s["sys_correlation_length_dex"], s["sys_correlation_kernel"]
    )
    ev = fitted.evaluate(values)
    sol, phi, q = ev["solution"], ev["phi_MV"], ev["q"]
    chi2, preds = {}, []
    for k, o in enumerate(obs):
        p = model.predict(sol, k, phi)
        p = p if o.kind == "ratio" else p @ q
        preds.append(p)
        chi2[o.name] = model.gauss[k].chi2(p - o.y)
    grids = _grids(obs)
    curves = []
    for k, (o, R) in enumerate(zip(obs, grids)):
        p = model.predict(sol, k, phi, R)
        curves.append((R, (p if o.kind == "ratio" else p @ q)[None]))
    return {
        "observables": obs,
        "chi2": chi2,
        "predictions": preds,
        "curves": curves,
        "fitted_chi2_full_network": ev["chi2"],
        "q": q,
    }


def li_excess(problem, values) -> dict:
    """Li/C chi2 at ``values`` and with the Li nuisance at its prior mean (xs_Li = 1);
    empty when no fitted dataset holds Li."""
    names = problem.parameters.names
    out = {}
    if not any("Li" in o.species for o in problem.observables):
        return out
    for label, vals in (("fitted", values), ("xs_Li = 1", _with(values, names, "xs_Li", 1.0))):
        ev = problem.model.evaluate(vals)
        out[label] = {k: v for k, v in ev["chi2"].items() if "Li" in k}
    return out


def table1_chi2(problem, values) -> dict:
    """chi2 of every fitted ratio at Table 1's transport and injection (no break, no
    convection, nominal cross sections, phi = 550 MV; abundances at ``values``), with the
    fit's covariance and with the diagonal one, on the fit's network and resolution."""
    from crknee.fit.propagation.covariance import covariance
    from crknee.fit.propagation.likelihood import CorrelatedGaussian

    names = problem.parameters.names
    v = np.array(values, copy=True)
    for name, x in {
        **TABLE1,
        "Delta_delta": 0.0,
        "Vc_km_s": 0.0,
        "phi_MV": 550.0,
        "dnu_H": 0.0,
        "xs_Li": 1.0,
        "xs_Be": 1.0,
        "xs_B": 1.0,
    }.items():
        v[names.index(name)] = x
    ev = problem.model.evaluate(v)
    out = {}
    for k, o in enumerate(problem.observables):
        if o.kind == "ratio":
            diag = CorrelatedGaussian(covariance(o.R_GV, o.stat, o.sys, 0.0)).chi2(ev["predictions"][k] - o.y)
            out[o.name] = {
                "n_points": int(o.R_GV.size),
                "chi2_fit_covariance": ev["chi2"][o.name],
                "chi2_diagonal": float(diag),
            }
    return out


def _with(values, names, name, x):
    v = np.array(values, copy=True)
    v[names.index(name)] = x
    return v


@dataclass(frozen=True)
class FigureInputs:
    """What the figures of the fit need (drawn by :func:`crknee.plots.propagation_fit.draw_all`,
    the application layer): equal-weight ``samples`` of ``parameters``, the fitted
    ``observables`` with their posterior ``bands`` ((grid, percentiles) per observable) and the
    posterior-median prediction at the data ``median_at_data``, and the checks not fitted
    (``checks``: None or the dict of :func:`checks`) on the network up to ``check_heaviest``."""

    samples: np.ndarray
    parameters: object
    observables: list
    bands: list
    median_at_data: list
    checks: dict | None
    check_heaviest: str


def write_outputs(problem, samples, logp, record, out: Path, config=None):
    """Write every table and text output of the module docstring; return (the summary dict,
    the :class:`FigureInputs` of the figures)."""
    from crknee import __version__
    from crknee.fit.propagation.run import fingerprint
    from crknee.fit.summary import posterior_table

    out = Path(out)
    record = json.loads(json.dumps(record, default=_plain))  # numpy scalars (e.g. a resumed chain's) -> Python
    params = problem.parameters
    table = posterior_table(samples, logp, params)
    med = median_values(params, samples)
    ev = problem.model.evaluate(med)
    table.meta.update(
        {
            "crknee_version": __version__,
            "command": "crknee fit propagation",
            "config": str(config) if config else "defaults (crknee/configs/propagation_fit.toml)",
            "settings_sha256": fingerprint(problem.settings),
            "datasets": [
                {
                    "name": o.name,
                    "n_points": int(o.R_GV.size),
                    "window_GV": [float(o.R_GV.min()), float(o.R_GV.max())],
                    "reference": o.reference,
                }
                for o in problem.observables
            ],
            "covariance": {
                "sys_correlation_length_dex": problem.settings["sys_correlation_length_dex"],
                "kernel": problem.settings["sys_correlation_kernel"],
                "approximation": "one systematic component per dataset (total sys), datasets independent",
            },
            "resolution": {
                k: problem.settings[k]
                for k in ("heaviest", "n_modes", "points_per_decade", "ekn_min_GeV", "ekn_max_GeV")
            },
            "sampler": {k: v for k, v in record.items() if k != "start"},
            "group_normalisations_at_median_cm-3_GeV-1_Myr-1": dict(zip(("H", "He", "Z>2"), ev["q"].tolist())),
        }
    )
    atomic_write_table(table, out / "posterior.ecsv")
    npts = [(o.name, o.R_GV.size) for o in problem.observables]
    atomic_write_table(_quality(npts, ev["chi2"]), out / "fit_quality.ecsv")
    grids, pcs = bands(problem, samples)
    rows = [(o.name, R[j], *pc[:, j]) for o, R, pc in zip(problem.observables, grids, pcs) for j in range(R.size)]
    bt = QTable(rows=rows, names=("dataset", "R", "p2.5", "p16", "p50", "p84", "p97.5"))
    bt["R"].unit = "GV"
    bt.meta["note"] = "ratios dimensionless; spectra in each dataset's unit (m-2 s-1 sr-1 GV-1)"
    atomic_write_table(bt, out / "bands.ecsv")
    chk = checks(problem, med)
    if chk is not None:
        atomic_write_table(
            _quality([(o.name, o.R_GV.size) for o in chk["observables"]], chk["chi2"]), out / "checks.ecsv"
        )
    li = li_excess(problem, med)
    t1 = table1_chi2(problem, med)
    atomic_write_text(out / "propagation_posterior.toml", posterior_toml(params, med))
    summary = {
        "sampler": record,
        "chi2_at_median": ev["chi2"],
        "chi2_total": float(sum(ev["chi2"].values())),
        "n_points": int(sum(k for _, k in npts)),
        "n_free": params.ndim,
        "posterior": {
            r["parameter"]: {
                "median": float(r["median"]),
                "minus": float(r["minus"]),
                "plus": float(r["plus"]),
                "unit": r["unit"],
            }
            for r in table
        },
        "checks_chi2": None if chk is None else chk["chi2"],
        "li_excess": li,
        "table1_chi2": t1,
    }
    summary["published_comparison"] = compare_published(summary["posterior"], fixed_values(params))
    atomic_write_json(out / "fit_summary.json", summary)
    atomic_write_text(out / "report.md", report(problem, table, summary, chk))
    figures = FigureInputs(
        samples,
        params,
        problem.observables,
        list(zip(grids, pcs)),
        [ev["predictions"][k] for k in range(len(problem.observables))],
        chk,
        problem.settings["check_heaviest"],
    )
    return summary, figures


def _plain(x):
    """JSON form of a numpy scalar or array."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _fmt(row) -> str:
    return f"{row['median']:.4g} -{row['minus']:.2g} +{row['plus']:.2g}"


def report(problem, table, summary, chk) -> str:
    """The markdown report: posterior, fit quality, checks, comparisons (cited)."""
    rec = summary["sampler"]
    lines = [
        "# crknee fit propagation: report",
        "",
        f"Sampler: {rec.get('method')}, {rec.get('n_evaluations')} evaluations in {rec.get('wall_s', 0):.0f} s "
        f"({rec.get('evaluations_per_s', float('nan')):.1f} /s, pool {rec.get('pool')} x {rec.get('workers')}); "
        f"converged: {rec.get('converged')}"
        + (
            f", chain = {rec.get('n_tau_reached', float('nan')):.1f} x max tau (rule: {rec.get('n_tau_rule')})"
            if rec.get("method") == "emcee"
            else ""
        ),
        "",
        "## Posterior (median, 68 % interval)",
        "",
        "| parameter | unit | value | flags |",
        "|---|---|---|---|",
    ]
    for r in table:
        flags = ", ".join(
            f
            for f, on in (("prior-dominated", r["prior_dominated"]), (f"at prior {r['edge']}", r["at_prior_edge"]))
            if on
        )
        lines.append(f"| {r['parameter']} | {r['unit']} | {_fmt(r)} | {flags} |")
    lines += [
        "",
        "## Fit quality at the posterior median (correlated covariance)",
        "",
        "| dataset | points | chi2 |",
        "|---|---|---|",
    ]
    for o in problem.observables:
        lines.append(f"| {o.name} | {o.R_GV.size} | {summary['chi2_at_median'][o.name]:.1f} |")
    lines.append(f"| total | {summary['n_points']} | {summary['chi2_total']:.1f} ({summary['n_free']} free) |")
    if chk is not None:
        lines += [
            "",
            f"## Checks: data not fitted, full network up to {problem.settings['check_heaviest']}",
            "",
            "| dataset | points | chi2 |",
            "|---|---|---|",
        ]
        for o in chk["observables"]:
            lines.append(f"| {o.name} | {o.R_GV.size} | {chk['chi2'][o.name]:.1f} |")
    if summary.get("li_excess"):
        li = summary["li_excess"]
        lines += [
            "",
            "## The Li excess",
            "",
            "Li/C chi2 at the posterior median with the fitted Li production nuisance and with it at its "
            "prior mean (xs_Li = 1):",
            "",
        ]
        for label, d in li.items():
            lines.append(f"- {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in d.items()))
    post = {r["parameter"]: r for r in table}
    lines += [
        "",
        "## Comparison with published fits and the paper",
        "",
        "| quantity | this fit | paper Table 1 |",
        "|---|---|---|",
    ]
    for name, t1 in TABLE1.items():
        lines.append(f"| {name} | {_fmt(post[name]) if name in post else 'fixed'} | {t1:g} |")
    bc = [o.name for o in problem.observables if o.name.startswith("bc/")]
    if bc:
        lines += [
            "",
            f"Paper Table 1: chi2 = {TABLE1_BC_CHI2:g} for {TABLE1_BC_POINTS} AMS-02 B/C points (issue 15); "
            f"this fit: chi2 = {summary['chi2_at_median'][bc[0]]:.1f} for "
            f"{next(o.R_GV.size for o in problem.observables if o.name == bc[0])} points of {bc[0]} "
            "in the fit window, with correlated systematics (not the same statistic: see docs/propagation_fit.md).",
        ]
    if summary.get("table1_chi2"):
        lines += [
            "",
            "Table 1's parameters (no break, no convection, nominal cross sections, phi = 550 MV) "
            "on the fit's network and resolution:",
            "",
            "| dataset | points | chi2 (fit covariance) | chi2 (diagonal) |",
            "|---|---|---|---|",
        ]
        for name, d in summary["table1_chi2"].items():
            lines.append(f"| {name} | {d['n_points']} | {d['chi2_fit_covariance']:.1f} | {d['chi2_diagonal']:.1f} |")
    published = summary.get("published_comparison")
    if published is None:
        published = compare_published(summary["posterior"], fixed_values(problem.parameters))
    lines += _published_lines(published)
    return "\n".join(lines) + "\n"


#: transport parameters the report says have no compared published value, when none has
_TRANSPORT = ("D0_1e28_cm2_s", "delta", "vA_km_s", "Vc_km_s", "H_kpc", "Rb_GV", "Delta_delta")


def _published_lines(rows) -> list[str]:
    """The report's table of :func:`crknee.fit.propagation.published.compare` rows."""
    compared = {r["parameter"] for r in rows if r["published_value"] is not None}
    missing = [name for name in _TRANSPORT if name not in compared]
    lines = [
        "",
        "### Published fits (crknee.fit.propagation.published; values read in the cited abstracts)",
        "",
        "| paper | model | parameter | published | this fit | comparison | where read |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['paper']} | {r['model']} | {r['parameter']} | {r['published']} | {r['fit'] or '-'} "
            f"| {r['verdict']} | {r['location']} |"
        )
    return lines + [
        "",
        "Comparison: (fit - published) / combined 1 sigma, each on the side facing the other value "
        "(a fixed parameter has none); ranges and limits quoted without a probability are checked, "
        "not pulled.  D0 is compared only at a stated halo height, scaled as D0/H (B/C-like ratios "
        "fix ~ D0/H; Maurin et al. 2001), and at R0 = 1 GV only when the conversion is exact.  The "
        "papers use other codes, cross sections, data and transport forms: a pull compares frameworks.",
        "Weinrich et al. 2020, abstract: post-fit production cross sections differ by ~5-15 % from their "
        "nominal values; compare xs_Li, xs_Be, xs_B above.  Korsmeier & Cuoco 2021, abstract: a diffusion "
        "break without reacceleration and reacceleration without a break both fit AMS-02 Li-O once "
        "cross-section nuisances are included.",
        "Not compared (no value in a text read): Boschini et al. 2020 (ApJS 250, 27; GALPROP-HelMod: its "
        "abstract quotes no propagation parameter).  No published value compared for: "
        + (", ".join(missing) if missing else "none")
        + ".",
    ]

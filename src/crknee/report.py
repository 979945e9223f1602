"""``report.html``: one self-contained page (figures embedded as base64 PNG, inline CSS).

Every number of the run stands beside the paper's value (:data:`PAPER`), and the page
says which constraints were active in the knee-source fit.  :func:`write_report` takes
the validated summary.json dictionary, the step summaries, the output folder and the
steps' cache statuses and compute times.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from crknee import paper
from crknee.io import atomic_write_text

#: The paper's published numbers (crknee.paper), as the report tabulates them: the knee
#: source as [p16, p50, p84] with l on crknee.fit's [-180, 180) axis (337.4 deg = -22.6 deg).
PAPER = {
    "table1": paper.TABLE1,
    "table2": paper.TABLE2,
    "proton_ratio_1PeV_max": paper.PROTON_RATIO_1PEV_MAX,
    "knee_source": {k: [m - lo, m, m + hi] for k, (m, lo, hi) in paper.knee_source_signed_l().items()},
    "candidates": list(paper.CANDIDATES),
}

#: Figure captions (short forms of the paper's).
CAPTIONS = {
    "fig01_bc": "Fig. 1: B/C at Earth (phi = 550 MV) and in the LIS vs AMS-02, PAMELA, DAMPE.",
    "fig02_gamma": "Fig. 2: hadronic gamma-ray SEDs of the four LHAASO microquasars.",
    "fig02b_ratio_maps": "Issue 12: protons at Earth / LHAASO at 1 PeV over (n_H a^2, chi) at three ages, "
    "the SED refitted "
    "at every point; red: the source alone exceeds the measured protons; dotted: plausible box.",
    "fig03_protons": "Fig. 3: protons at Earth: background, local SNR and each microquasar (dashed: default config; "
    "shaded: plausible (n_H a^2, chi, age) box).",
    "fig04_anisotropy_phase": "Fig. 4: phase (RA) of the dipole, 100 GeV - 10 EeV: every bundled experiment; "
    "background, "
    "local SNR, knee source (MAP) and total, for isotropic diffusion (left) and the "
    "field-aligned dipole (right).",
    "fig05_anisotropy_amplitude": "Fig. 5: equatorial dipole amplitude d_perp, same components (data: published "
    "amplitude divided by its convention's factor).",
    "fit_anisotropy": "The anisotropy data in the fit windows with the fitted model (MAP and 16-84 % band).",
    "fig06_protons": "Fig. 6: protons with the fitted knee source (MAP and 16-84 % band) on background + local SNR.",
    "fig07_corner": "Fig. 7: posterior of the knee source (crknee default; the sampler is named in the knee-source "
    "section).",
    "fig07_corner_paper_mode": "Fig. 7 in the paper's mode (free space, protons, d_perp with Gaussian errors).",
    "fig08_helium": "Fig. 8: helium vs data (a fit when helium is in the likelihood; 68/95 % bands).",
    "fig09_allparticle": "Fig. 9: all-particle vs data (a fit when the all-particle flux is in the likelihood).",
    "fig_lnA": "<ln A> of the fitted model vs the LHAASO data (68/95 % bands; data on the fitted energy scale).",
    "fig10_xrb_map": "Fig. 10: X-ray binaries on the Galactic plane with the 1 and 2 sigma regions.",
}

_CSS = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}
th{background:#eee} td.l,th.l{text-align:left}
figure{margin:1em 0} img{max-width:100%} figcaption{font-size:90%;color:#444}
.note{color:#555;font-size:90%}
"""


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        return f"{x:.4g}"
    if isinstance(x, (list, tuple)) and len(x) == 3 and all(isinstance(v, (int, float)) for v in x):
        return f"{x[1]:.4g} (+{x[2] - x[1]:.3g} / -{x[1] - x[0]:.3g})"
    return html.escape(str(x))


def _table(header, rows) -> str:
    head = "".join(
        f"<th class='l'>{html.escape(h)}</th>" if i == 0 else f"<th>{html.escape(h)}</th>" for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td class='l'>{_fmt(c)}</td>" if i == 0 else f"<td>{_fmt(c)}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _local_snr(snr: dict) -> str:
    rows = [[k, snr[k]] for k in ("d_kpc", "age_Myr", "beta", "Rcut_GV", "energy_erg")]
    return (
        f"<h2>Local SNR (Sec. 2.2)</h2><p>{html.escape(snr['name'])} fitted to the protons below 100 TeV on top "
        f"of the background: chi2 = {_fmt(snr['chi2'])} for {snr['ndof']} degrees of freedom (the paper gives no "
        f"parameters for it).</p>" + _table(["parameter", "this run"], rows)
    )


def _list(items) -> str:
    if not items:
        return "<p class='note'>none</p>"
    return "<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>"


def _figure(png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode()
    caption = CAPTIONS.get(png.stem, png.stem)
    return (
        f"<figure id='{png.stem}'><img alt='{png.name}' src='data:image/png;base64,{data}'>"
        f"<figcaption><b>{png.name}</b> ({png.stem}.pdf beside it). {html.escape(caption)}</figcaption></figure>"
    )


#: Figures drawn in their own section (not repeated in the list of figures).
DIPOLE_FIGURES = ("fig04_anisotropy_phase", "fig05_anisotropy_amplitude")


def _dipole(quality: dict, out: Path) -> str:
    """Figs. 4-5 with the fit quality of each experiment beside them (isotropic diffusion,
    the paper's mode, and the field-aligned dipole, both at the MAP)."""
    rows = [
        [
            r["dataset"].partition("/")[2],
            "yes" if r["fitted"] else "no",
            r["n_rows"],
            r["deviance_isotropic"],
            r["dof_isotropic"],
            r["deviance_field_aligned"],
            r["dof_field_aligned"],
        ]
        for r in quality["rows"]
    ]
    tot = [
        "total",
        "",
        sum(r[2] for r in rows),
        sum(r[3] for r in rows if r[4] > 0),
        sum(r[4] for r in rows),
        sum(r[5] for r in rows if r[6] > 0),
        sum(r[6] for r in rows),
    ]
    figs = "".join(
        _figure(out / "figures" / f"{stem}.png")
        for stem in DIPOLE_FIGURES
        if (out / "figures" / f"{stem}.png").is_file()
    )
    return (
        "<h2>Dipole anisotropy from 100 GeV to 10 EeV (Figs. 4-5)</h2>"
        "<p>Every bundled experiment, each compared in the quantity it published (d_perp, first harmonic r1 = "
        "d_perp &lt;cos dec&gt;, ...; docs/anisotropy.md) with the harmonic likelihood. Deviance = -2 ln L relative "
        "to a model that reproduces every row (chi2-like; its expectation is the number of degrees of freedom), "
        f"at the knee-source MAP, for isotropic diffusion (the paper's mode) and for the dipole projected on the "
        f"local magnetic field ({html.escape(quality['field'])}).</p>"
        + "<p class='note'>dof counts the rows where the model is defined (a source outside its diffusive "
        "regime has no dipole prediction there).</p>"
        + _table(
            ["dataset", "fitted", "rows", "deviance, isotropic", "dof", "deviance, field-aligned", "dof"], rows + [tot]
        )
        + figs
    )


def _figures(out: Path) -> str:
    parts = []
    for png in sorted((out / "figures").glob("*.png")):
        if png.stem in DIPOLE_FIGURES:
            continue
        parts.append(_figure(png))
    return "\n".join(parts)


def _diagnostics(fit: dict) -> str:
    """How one posterior was sampled: emcee's stop rule, or nested sampling's evidence."""
    s = fit["sampler"]
    if s["method"].startswith("dynesty"):
        return (
            f"dynesty nested sampling: ln Z = {s['log_z']:.3f} +- {s['log_z_err']:.3f}, {s['nlive']} live points, "
            f"stopped at dlogz = {_fmt(s['dlogz'])} after {s['iterations']} iterations and {s['likelihood_calls']} "
            f"likelihood calls; effective sample size {s['n_effective']:.0f}"
        )
    tau = ", ".join(f"{k} {v:.3g}" for k, v in s["tau"].items())
    return (
        f"emcee MCMC: {s['n_steps']} steps x {s['n_walkers']} walkers, {s['n_tau_reached']:.1f} x max tau "
        f"(needs {_fmt(s['n_tau_required'])}), acceptance {s['acceptance_fraction']:.3f}; tau: {tau}"
    )


def _flags(fit: dict, k: str) -> str:
    k = "log10_E_erg" if k == "W_erg" else k  # W's flags are those of the sampled log10 W
    flags = [f"piled at prior {fit['at_prior_edge'][k]}"] if k in fit.get("at_prior_edge", {}) else []
    flags += ["prior-dominated"] if k in fit.get("prior_dominated", []) else []
    return "; ".join(flags) or "-"


#: The knee-source parameters tabulated beside the paper's (the paper gives l, d, t).
KNEE_ROWS = ("l_deg", "d_kpc", "age_Myr", "Rcut_PV", "beta", "W_erg")


def _knee_modes(fit: dict) -> str:
    """The crknee default beside the paper's mode and the paper, with each fit's flags
    (posterior piled against a prior bound, prior-dominated) and sampler diagnostics."""
    fits = {"crknee default": fit, **{f"{m['label']}": m for m in fit.get("modes", {}).values()}}

    def value(f, k):
        if k == "W_erg":
            return f.get("W_erg")
        return f["all_parameters"].get(k)

    header = ["parameter"]
    for name in fits:
        header += [name, "flags"]
    header.append("paper (Sec. 3)")
    rows = []
    for k in KNEE_ROWS:
        row = [k]
        for f in fits.values():
            row += [value(f, k), _flags(f, k)]
        row.append(PAPER["knee_source"].get(k))
        rows.append(row)
    diag = "".join(
        f"<li><b>{html.escape(n)}</b>: converged: <b>{_fmt(f['converged'])}</b>; {html.escape(_diagnostics(f))}.</li>"
        for n, f in fits.items()
    )
    edges = {n: f["at_prior_edge"] for n, f in fits.items() if f.get("at_prior_edge")}
    piled = "".join(
        f"<p><b>{html.escape(n)}: posterior piled against a prior bound:</b> "
        f"{html.escape(', '.join(f'{k} ({v})' for k, v in e.items()))}.</p>"
        for n, e in edges.items()
    )
    comp = fit.get("composition", {})
    comp_line = (
        (
            "<p>Source composition (abundance at equal rigidity, p16/p50/p84; fixed when the three agree): "
            + html.escape(", ".join(f"{k} {_fmt(v)}" for k, v in comp.items()))
            + ".</p>"
        )
        if comp
        else ""
    )
    return (
        _table(header, rows) + "<p class='note'>W: injected energy [erg] (derived). Flags: a posterior piled "
        "against a prior bound, or one whose 68 % interval is as wide as the prior's (prior-dominated).</p>"
        + piled
        + comp_line
        + f"<p>Sampling:</p><ul>{diag}</ul>"
    )


def _evidence(evidence) -> str:
    """The evidence table (issue 17, item 4) with Jeffreys' wording."""
    if not evidence:
        return ""
    rows = [
        [
            r["model"] + " " + r["label"],
            r["n_params"],
            f"{r['ln_Z']:.2f} +- {r['ln_Z_err']:.2f}",
            f"{r['ln_B']:+.2f} +- {r['ln_B_err']:.2f}",
            r["jeffreys"],
            r["n_calls"],
            r["converged"],
        ]
        for r in evidence["rows"]
    ]
    return (
        "<h3>Bayesian evidence of the knee-source models (issue 17; docs/evidence.md)</h3>"
        "<p>All models fitted to the same data pieces (the [fit] datasets), so the likelihood constants "
        f"dropped from ln Z cancel in ln B = ln Z - ln Z({html.escape(evidence['reference'])}). Wording: "
        "Jeffreys' scale (Trotta 2008): |ln B| &lt; 1 inconclusive, 1-2.5 weak, 2.5-5 moderate, &gt;= 5 strong. "
        "dynesty nested sampling.</p>"
        + _table(
            [
                "model",
                "free parameters",
                "ln Z",
                f"ln B vs {evidence['reference']}",
                "Jeffreys",
                "likelihood calls",
                "converged",
            ],
            rows,
        )
    )


def _knee_constraint(summary: dict, steps: dict) -> str:
    """Issue 12: the ratio at the default config beside its plausible range, and the
    hadronic/leptonic likelihood ratio (empty when the gamma step made no maps)."""
    rows = []
    for name, g in summary["gamma"].items():
        c = steps["gamma"]["sources"][name].get("constraint")
        if c is None:
            continue
        lr = c.get("likelihood_ratio") or {}
        lep = c.get("leptonic") or {}
        rows.append(
            [
                name,
                c["n_H_ref_cm3"],
                c["a_pc"],
                g["proton_ratio_1PeV"],
                f"{c['range'][0]:.3g} - {c['range'][1]:.3g}",
                lr.get("minus2_ln_L_lep_over_L_had"),
                lr.get("delta_AIC_lep_minus_had"),
                lep.get("alpha"),
                lep.get("Ecut_TeV"),
                c["label"],
            ]
        )
    if not rows:
        return ""
    box = next(iter(steps["gamma"]["sources"].values()))["constraint"]["plausible"]
    return (
        "<h3>The protons at Earth as a constraint (issue 12; docs/gamma.md)</h3>"
        f"<p class='note'>Plausible box: n_H = {box['n_H_factor'][0]:g}-{box['n_H_factor'][1]:g} x the gas model, "
        f"chi = {box['chi'][0]:g}-{box['chi'][1]:g} (two-zone), "
        f"age = {box['age_factor'][0]:.3g}-{box['age_factor'][1]:g} "
        "x the paper's; the gamma-ray SED is refitted at every point (L0 follows). -2 ln(L_lep/L_had) &gt; 0 favours "
        "the hadronic model; the models are not nested.</p>"
        + _table(
            [
                "source",
                "n_H gas model [cm^-3]",
                "a [pc]",
                "p(1 PeV)/LHAASO default",
                "plausible range",
                "-2 ln(L_lep/L_had)",
                "dAIC lep-had",
                "IC alpha",
                "IC Ecut [TeV]",
                "status",
            ],
            rows,
        )
    )


def render(summary: dict, steps: dict, out: Path, statuses: dict, computed_s: dict) -> str:
    """The report's HTML text."""
    cfg = summary["config"]["values"]
    prop = cfg["propagation"]
    t1 = PAPER["table1"]
    sections = [
        f"<h1>crknee reproduction of Nie, Yue, Guo &amp; Liu</h1>"
        f"<p class='note'>crknee {html.escape(summary['crknee_version'])}; "
        f"config {html.escape(summary['config']['source'])} "
        f"(sha256 {summary['config']['sha256'][:12]}); fast mode: {_fmt(summary['config']['fast'])}.</p>",
        "<p><b>Fast mode: coarser grids and a short, unconverged chain; the numbers check the pipeline, they are "
        "not the reproduction.</b></p>"
        if summary["config"]["fast"]
        else "",
        "<h2>Background propagation (Table 1, Fig. 1)</h2>",
        _table(["parameter", "this run", "paper (Table 1)"], [[k, prop[k], v] for k, v in t1.items()]),
        _table(
            ["B/C at Earth vs", "chi2", "ndof", "chi2/ndof", "paper"],
            [
                [
                    steps["background"]["bc_dataset"],
                    summary["bc"]["chi2"],
                    summary["bc"]["ndof"],
                    summary["bc"]["chi2"] / max(summary["bc"]["ndof"], 1),
                    "Fig. 1 only (no chi2 given)",
                ]
            ],
        ),
        _table(
            ["primary normalisations fitted to", "chi2", "ndof"],
            [
                [
                    ", ".join(steps["background"]["normalisation"]["datasets"]),
                    steps["background"]["normalisation"]["chi2"],
                    steps["background"]["normalisation"]["ndof"],
                ]
            ],
        ),
        _local_snr(steps["local_snr"]),
        "<h2>Microquasars: gamma-ray fits (Table 2, Fig. 2) and their protons at Earth (Fig. 3)</h2>",
    ]
    rows = []
    for name, g in summary["gamma"].items():
        paper = PAPER["table2"].get(name, {})
        status = steps["gamma"]["sources"][name]["status"]
        rows.append(
            [
                name,
                g["beta"],
                paper.get("beta"),
                g["L0_erg_s"],
                paper.get("L0_erg_s"),
                g["chi2"],
                g["ndof"],
                g["proton_ratio_1PeV"],
                f"< {PAPER['proton_ratio_1PeV_max']:g}",
                status,
            ]
        )
    sections.append(
        _table(
            [
                "source",
                "beta",
                "paper beta",
                "L0 [erg/s]",
                "paper L0",
                "chi2",
                "ndof",
                "p(1 PeV)/LHAASO",
                "paper",
                "status",
            ],
            rows,
        )
    )
    sections.append(_knee_constraint(summary, steps))
    fit = steps["knee_mcmc"]
    sections += [
        "<h2>The knee source (Figs. 4-9): crknee default and the paper's mode</h2>",
        "<p class='note'>Each cell: p50 (+p84 / -p16); l on [-180, 180) deg (the paper's 337.4 deg is -22.6 deg).</p>",
        _knee_modes(fit),
        _evidence(fit.get("evidence")),
        "<p>Constraints active in the likelihood of the crknee default fit:</p>",
        _list(fit["active"]),
        "<p>Checks (drawn, not fitted):</p>",
        _list(fit["checks"]),
        "<p>Declared but inactive (no point inside the energy window):</p>",
        _list(fit["inactive"]),
        ""
        if fit["anisotropy_active"]
        else "<p><b>No anisotropy constraint is active: the direction (l, b) is set by the prior alone.</b></p>",
        _dipole(fit["anisotropy_quality"], out),
        "<h2>Candidate binaries (Fig. 10)</h2>",
        _table(
            ["", "this run", "paper (Sec. 3)"],
            [
                ["inside 1 sigma", ", ".join(summary["candidates"]) or "none", ", ".join(PAPER["candidates"])],
                [
                    "paper candidates recovered",
                    ", ".join(sorted(set(summary["candidates"]) & set(PAPER["candidates"]))) or "none",
                    "",
                ],
            ],
        ),
        "<h2>Timings</h2>",
        _table(
            ["step", "this run", "seconds (this run)", "seconds when computed"],
            [[k, statuses[k], v, computed_s[k]] for k, v in summary["timings_s"].items()],
        ),
        "<h2>Figures</h2>",
        _figures(out),
    ]
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>crknee report</title><style>{_CSS}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )


def write_report(summary: dict, steps: dict, out, statuses: dict, computed_s: dict) -> Path:
    """Write ``DIR/report.html`` atomically and return its path.  ``steps``: the step
    summaries; ``statuses``/``computed_s``: per step, "cached"/"computed" and the seconds
    of the run that computed it (:class:`crknee.pipeline.engine.StepsRun`)."""
    out = Path(out)
    return atomic_write_text(out / "report.html", render(summary, steps, out, statuses, computed_s))

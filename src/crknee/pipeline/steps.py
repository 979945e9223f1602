"""The steps of ``crknee reproduce``: each one calls the public API of one physics module.

No physics lives here: a step reads its config sections, calls crknee.propagation /
crknee.gamma / crknee.sources / crknee.fit / crknee.catalogs, and writes what they return
(figures through their plot functions, tables through :mod:`crknee.io`).  Each step's
summary (JSON) feeds summary.json and the report; its state feeds the steps downstream.

==========  ======================================  ==================================================
step        config sections (+ upstream steps)      outputs (in DIR)
==========  ======================================  ==================================================
background  propagation, bc                         figures/fig01_bc, tables/bc.ecsv
gamma       propagation, gamma                      figures/fig02_gamma, fig02b_ratio_maps,
                                                    tables/gamma_fits.ecsv, proton_ratio_maps.ecsv
local_snr   propagation, local_snr (+ background)   tables/local_snr.ecsv
protons     propagation, protons (+ background,     figures/fig03_protons, tables/protons_ratio.ecsv
            gamma, local_snr)
knee_mcmc   propagation, knee_mcmc, fit             figures/fig04-fig09 (+ fit_anisotropy),
            (+ background, local_snr)               chains/knee_mcmc/ (a ``crknee fit`` folder),
                                                    tables/knee_posterior.ecsv
candidates  candidates (+ knee_mcmc)                figures/fig10_xrb_map, tables/candidates.ecsv
==========  ======================================  ==================================================
"""

from __future__ import annotations

import dataclasses
import json

import astropy.units as u
import numpy as np
from astropy.table import QTable

from crknee.io import atomic_write_table
from crknee.pipeline import states
from crknee.pipeline.engine import Step, StepResult

#: [gamma] cutoff setting -> crknee.gamma.fit_sed's cutoff argument.
_CUTOFF = {"auto": "auto", "always": True, "never": False}
#: Element fitted by a normalisation dataset, from its quantity.
ELEMENT_OF_QUANTITY = {"proton": "H", "helium": "He"}


def _phi(section: dict) -> u.Quantity:
    return section["phi_MV"] * u.MV


# ------------------------------------------------------------------------------ steps
def background(ctx) -> StepResult:
    """Solve eq. 1-4 (Table 1), fit the primary normalisations, B/C chi2, Fig. 1."""
    from crknee.plots.bc import plot_bc
    from crknee.propagation.fitting import bc_chi2, fit_normalisations
    from crknee.propagation.model import model_from_config
    from crknee.propagation.solution import solve

    prop, bc = ctx.config["propagation"], ctx.config["bc"]
    model = model_from_config(prop)
    phi = _phi(prop)
    raw = solve(model, norms=np.ones(3) * u.Unit("cm-3 GeV-1 Myr-1"))
    data = [(name, ELEMENT_OF_QUANTITY[name.split("/")[0]]) for name in prop["normalisation_datasets"]]
    norm = fit_normalisations(raw, data=data, window_GV=tuple(prop["normalisation_window_GV"]), phi=phi)
    solution = raw.with_norms(norm.norms)
    chi2, npts = bc_chi2(solution, name=bc["chi2_dataset"], phi=phi)
    ndof = npts - len(prop["normalisation_datasets"])
    ekn = np.geomspace(0.1, 1.0e4, 200) * u.GeV
    table = QTable(
        {
            "Ek_per_nucleon": ekn,
            "B_over_C_lis": solution.ratio("B", "C", ekn, "Ekn", "lis"),
            "B_over_C_earth": solution.ratio("B", "C", ekn, "Ekn", "earth", phi),
        }
    )
    table.meta.update({"phi_MV": prop["phi_MV"], "chi2": chi2, "ndof": ndof, "dataset": bc["chi2_dataset"]})
    artifacts = [atomic_write_table(table, ctx.path("tables", "bc.ecsv"))]
    artifacts += plot_bc(
        solution, ctx.path("figures", "fig01_bc.png"), phi=phi, datasets=bc["plot_datasets"], formats=("png", "pdf")
    )
    return StepResult(
        {
            "bc": {"chi2": chi2, "ndof": int(ndof)},
            "bc_dataset": bc["chi2_dataset"],
            "normalisation": {"chi2": norm.chi2, "ndof": norm.ndof, "datasets": prop["normalisation_datasets"]},
        },
        artifacts,
        state=solution,
    )


def gamma(ctx) -> StepResult:
    """Per-source fit of (L0, beta[, R_cut]) to the SED points, or Table 2 as given; Fig. 2."""
    from crknee.gamma import HadronicSource, SourceParams, analyse
    from crknee.gamma.bands import sed_envelope
    from crknee.plots.gamma import E_MODEL, plot_gamma
    from crknee.propagation.model import model_from_config

    sec = ctx.config["gamma"]
    diffusion = model_from_config(ctx.config["propagation"]).diffusion
    cutoff = _CUTOFF[sec["cutoff"]]
    results, summary = {}, {}
    for name, opts in sec["sources"].items():
        opts = dict(opts)
        datasets, refit = opts.pop("sed") or None, opts.pop("refit")  # [] = every SED of the source (user-added too)
        params = SourceParams.from_dict({"name": name, **opts})
        res = analyse(
            name,
            params,
            datasets,
            refit,
            cutoff=cutoff,
            nwalkers=sec["nwalkers"],
            nsteps=sec["nsteps"],
            burn=sec["burn"],
            seed=sec["seed"],
            source=HadronicSource(params, diffusion),
        )
        results[name] = res
        fitted = res.label == "fitted"
        summary[name] = {
            "beta": float(res.params.beta),
            "L0_erg_s": float(res.params.L0_erg_s),
            "chi2": float(res.chi2) if fitted else None,
            "ndof": int(res.ndof) if fitted else None,
            "status": res.label,
            "datasets": list(res.datasets),
            "cutoff": bool(res.cutoff),
            "posterior": res.summary()["posterior"],
        }
    rows = [
        (
            n,
            s["status"],
            s["beta"],
            s["L0_erg_s"],
            np.nan if s["chi2"] is None else s["chi2"],
            -1 if s["ndof"] is None else s["ndof"],
            ", ".join(s["datasets"]),
        )
        for n, s in summary.items()
    ]
    table = QTable(rows=rows, names=("source", "status", "beta", "L0", "chi2", "ndof", "datasets"))
    table["L0"].unit = u.erg / u.s
    table.meta["notes"] = "ndof = -1 and chi2 = NaN: paper parameters, not refitted (no SED points)"
    artifacts = [atomic_write_table(table, ctx.path("tables", "gamma_fits.ecsv"))]
    constraints, more = _knee_constraints(ctx, results, diffusion)  # issue 12: maps, bands, leptonic fits
    for name, c in constraints.items():
        summary[name]["constraint"] = c.summary()
    artifacts += plot_gamma(
        results,
        ctx.path("figures", "fig02_gamma.png"),
        envelopes={n: sed_envelope(c.map, E_MODEL, diffusion) for n, c in constraints.items()},
        leptonic={n: c.leptonic for n, c in constraints.items() if c.leptonic is not None},
    )
    # Fig. 3's bands of protons at Earth over the plausible box (issue 12), as plain arrays
    from crknee.gamma.bands import earth_band
    from crknee.plots.protons import E_CURVE
    from crknee.sources.point import FLUX_UNIT

    phi = _phi(ctx.config["propagation"])
    bands = {
        n: [b.to_value(FLUX_UNIT) for b in earth_band(c.map, E_CURVE, diffusion, phi)] for n, c in constraints.items()
    }
    return StepResult(
        {"sources": summary},
        artifacts + more,
        state={"params": {n: r.params for n, r in results.items()}, "bands": bands},
    )


def _knee_constraints(ctx, results, diffusion):
    """Issue 12: the ratio maps (figure + table) and the leptonic fits of every source."""
    from crknee.gamma.bands import knee_constraints, map_options
    from crknee.paper import TABLE2
    from crknee.plots.ratio_maps import plot_ratio_maps

    constraints = knee_constraints(
        results, diffusion=diffusion, cutoff=_CUTOFF[ctx.config["gamma"]["cutoff"]], **map_options(ctx.config["gamma"])
    )
    rows = [
        (
            n,
            float(m.age_Myr[i]),
            float(m.chi[j]),
            float(m.ratio_ref[i, j]),
            float(m.n_H_a2_ref),
            float(m.L0_ref[i, j]),
            float(m.beta[i, j]),
            float(m.Rcut_GV[i, j]),
            float(m.chi2[i, j]),
            m.label,
        )
        for n, m in ((n, c.map) for n, c in constraints.items())
        for i in range(m.age_Myr.size)
        for j in range(m.chi.size)
    ]
    table = QTable(
        rows=rows, names=("source", "age", "chi", "ratio_ref", "n_H_a2_ref", "L0_ref", "beta", "Rcut", "chi2", "status")
    )
    for col, unit in (("age", u.Myr), ("n_H_a2_ref", u.cm**-3 * u.pc**2), ("L0_ref", u.erg / u.s), ("Rcut", u.GV)):
        table[col].unit = unit
    table.meta["notes"] = (
        "protons at Earth / LHAASO at 1 PeV (ratio_ref) at the reference n_H a^2; at another n_H a^2 "
        "ratio and L0 scale as n_H a^2_ref / n_H a^2 for fitted sources (crknee.gamma.maps)"
    )
    more = [atomic_write_table(table, ctx.path("tables", "proton_ratio_maps.ecsv"))]
    more += plot_ratio_maps(
        {n: c.map for n, c in constraints.items()},
        ctx.path("figures", "fig02b_ratio_maps.png"),
        {n: v["L0_erg_s"] for n, v in TABLE2.items()},
    )
    return constraints, more


def local_snr(ctx) -> StepResult:
    """Fit the local SNR (Sec. 2.2) to the proton data on top of the background."""
    from crknee.sources.catalogue import NAMED_SOURCES
    from crknee.sources.local_snr import fit_local_snr, proton_data
    from crknee.sources.point import FLUX_UNIT

    sec, prop = ctx.config["local_snr"], ctx.config["propagation"]
    solution = ctx.state("background")
    lo, hi = sec["fit_window_GeV"]
    E, y, err = proton_data(sec["fit_datasets"], (lo, hi))
    phi = _phi(prop)
    bg = solution.earth("H1", E * u.GeV, "Etot", phi).to_value(FLUX_UNIT)
    fit = fit_local_snr(E, y, err, bg, entry=NAMED_SOURCES[sec["name"]], diffusion=solution.diffusion, phi=phi)
    src = fit.source
    params = {
        "d_kpc": src.d_kpc,
        "age_Myr": src.age_Myr,
        "beta": src.beta,
        "Rcut_GV": src.Rcut_GV,
        "energy_erg": src.energy_erg,
    }
    table = QTable({"parameter": list(params), "value": [float(v) for v in params.values()]})
    table.meta.update(
        {
            "source": sec["name"],
            "l_deg": src.l_deg,
            "b_deg": src.b_deg,
            "chi2": fit.chi2,
            "ndof": fit.ndof,
            "datasets": sec["fit_datasets"],
            "window_GeV": [lo, hi],
        }
    )
    artifacts = [atomic_write_table(table, ctx.path("tables", "local_snr.ecsv"))]
    return StepResult(
        {"name": sec["name"], "chi2": fit.chi2, "ndof": fit.ndof, **{k: float(v) for k, v in params.items()}},
        artifacts,
        state=src,
    )


def protons(ctx) -> StepResult:
    """The microquasars' protons at Earth vs the proton data, their ratio at 1 PeV; Fig. 3."""
    from crknee.gamma import ratio_to_data
    from crknee.kinematics import nuclide
    from crknee.plots.protons import plot_protons

    sec = ctx.config["protons"]
    params, bands = ctx.state("gamma")["params"], ctx.state("gamma")["bands"]
    diffusion = ctx.state("background").diffusion
    E_ref = sec["reference_E_GeV"] * u.GeV
    ratios = {name: ratio_to_data(p, E_ref, sec["reference_dataset"], diffusion) for name, p in params.items()}
    table = QTable({"source": list(ratios), "ratio": list(ratios.values())})
    table.meta.update({"reference_dataset": sec["reference_dataset"], "reference_E_GeV": sec["reference_E_GeV"]})
    artifacts = [atomic_write_table(table, ctx.path("tables", "protons_ratio.ecsv"))]
    E = np.geomspace(10.0, 1.0e8, 200) * u.GeV
    phi = _phi(ctx.config["propagation"])
    solution = ctx.state("background")
    # the background curve stops where the solved LIS does (its cut-off region, crknee.validation)
    E_bg = E[E.to_value(u.GeV) <= solution.raw.ekn[-1] - phi.to_value(u.GV) + nuclide("H1").mass_GeV]
    background = (E_bg, solution.earth("H1", E_bg, "Etot", phi))
    snr = (E, ctx.state("local_snr").flux("H1", E, phi))
    artifacts += plot_protons(
        params,
        background,
        snr,
        datasets=sec["plot_datasets"],
        path=ctx.path("figures", "fig03_protons.png"),
        diffusion=diffusion,
        phi=phi,
        bands=bands,
    )
    return StepResult(
        {
            "ratio_1PeV": ratios,
            "reference_dataset": sec["reference_dataset"],
            "reference_E_GeV": sec["reference_E_GeV"],
        },
        artifacts,
        state=None,
    )


#: Energies of the posterior predictive table [GeV, total energy per particle]: 100 TeV -
#: 1 EeV, 10 points per decade (issue 17: where a new measurement tests the knee source).
PREDICTIVE_E_GEV = np.geomspace(1e5, 1e9, 41)
#: Top of the fixed components' grid [GeV, total energy per particle]: 10 EeV, the end of
#: Figs. 4-5 and above every anisotropy fit window (the paper's reaches 2 EeV).
FIXED_E_MAX_GEV = 1e10


def fixed_components(solution, snr, phi, points_per_decade: int, E_top_GeV: float = 0.0):
    """Background + local SNR tabulated for the knee-source fit (crknee.fit.FixedComponents).

    Grid: total energy per particle from 100 GeV (above every nucleus' solver threshold,
    Fe at 58 GeV) to the solver's top proton energy, continued with the same spacing up to
    ``E_top_GeV`` (the pipeline passes the larger of :data:`FIXED_E_MAX_GEV`, the end of
    Figs. 4-5, and the fit's highest energy, :func:`crknee.validation.fit_energy_top`).
    Fluxes at Earth per element (SNR species added to their element).  Above the top of
    its solver grid an element's background flux is zero, as in
    :func:`crknee.anisotropy.solution_dipole`: the background injection is cut off there
    (exp(-R/R_cut) <= e^-50, required by :func:`crknee.validation.check_fit_energies`;
    with Table 1's R_cut = 200 TV the solved proton flux at 9e7 GeV is 4e-98 of its
    value at 1 PeV).  The fit uses only the flux-weighted sum of the
    dipoles, so every element carries the fixed components' all-particle own dipole
    (:func:`crknee.anisotropy.solution_dipole` + the SNR's, :func:`crknee.anisotropy.combine`;
    zero where the fixed flux vanishes).  The background's own part (fluxes, dipole, its
    cutoff R_cut) is kept separately for the fit's no-source model (a free background cutoff).
    """
    from crknee.anisotropy import combine, solution_dipole
    from crknee.fit import FixedComponents
    from crknee.kinematics import nuclide
    from crknee.sources.point import FLUX_UNIT

    top = solution.ekn[-1].to_value(u.GeV)
    n = int(np.log10(top / 100.0) * points_per_decade) + 1
    E = np.geomspace(100.0, top, n)
    if E_top_GeV > top:
        step = np.log10(E[1] / E[0])
        E = np.concatenate([E, top * 10.0 ** (step * np.arange(1, int(np.ceil(np.log10(E_top_GeV / top) / step)) + 1))])
    ekn_top, phi_GV = solution.raw.ekn[-1], phi.to_value(u.GV)
    flux = {}
    for el in dict.fromkeys(n.element for n in solution.nuclides):
        # highest Etot at which every isotope's modulated flux comes from the solved LIS
        E_el = min(m.A * (ekn_top - abs(m.Z) / m.A * phi_GV) + m.mass_GeV for m in solution.nuclides if m.element == el)
        on = E <= E_el
        flux[el] = np.zeros(E.size)
        flux[el][on] = solution.earth(el, E[on] * u.GeV, "Etot", phi).to_value(FLUX_UNIT)
    background = {el: J.copy() for el, J in flux.items()}  # the no-source model rescales its cutoff
    for sp in snr.composition.species:
        el = nuclide(sp).element
        flux[el] = flux.get(el, 0.0) + snr.flux(sp, E * u.GeV, phi).to_value(FLUX_UNIT)
    J_bg, d_bg = solution_dipole(solution, E)
    J_snr, d_snr, _ = snr.evaluate(E, "all")
    J_fixed, d_fixed = combine([J_bg, J_snr], [d_bg, d_snr])
    d_fixed = np.where(J_fixed[:, None] > 0, d_fixed, 0.0)
    return FixedComponents(
        E,
        flux,
        dict.fromkeys(flux, d_fixed),
        solution.diffusion,
        solution.model.H.to_value(u.kpc),
        background=background,
        background_dipole=np.where(J_bg[:, None] > 0, d_bg, 0.0),
        background_Rcut_GV=solution.model.R_cut.to_value(u.GV),
    )


#: Output folders of the knee-source fits (under DIR/chains): the default fit, an evidence
#: model that differs from it, a [fit_modes] mode.
DEFAULT_RUN = "knee_mcmc"


def _run_folder(kind: str, name: str) -> str:
    return DEFAULT_RUN if kind == "default" else f"{kind}_{name}"


def _prepare_runs(ctx, folders) -> None:
    """Resume the checkpoints in ``folders`` (``chain.h5``, ``nested.ckpt``) only if they
    were started with this step's cache key and are intact; else start anew.  A chain that
    a finished run of the same key recorded and that has changed since is damaged: it is
    moved aside (crknee.fit.sampler.set_aside); the samplers check an interrupted chain or
    checkpoint themselves before resuming it (crknee.fit.sampler, crknee.fit.nested)."""
    import h5py

    from crknee.fit.driver import NESTED_CHECKPOINT
    from crknee.fit.sampler import chain_problem, set_aside
    from crknee.io import atomic_write_json, sha256_file

    marker_file = ctx._cache / "knee_mcmc.chain.json"
    try:
        started = json.loads(marker_file.read_text())["key"] if marker_file.is_file() else None
    except (ValueError, KeyError, TypeError):
        started = None
    record = ctx.record("knee_mcmc")
    for folder in folders:
        chain, ckpt = folder / "chain.h5", folder / NESTED_CHECKPOINT
        recorded = (
            record["artifacts"].get(chain.relative_to(ctx.out).as_posix())
            if record and record["key"] == ctx.key
            else None
        )
        if chain.is_file() and recorded is not None and sha256_file(chain) != recorded:
            set_aside(chain, "checksum mismatch with the finished run's record")
        if started != ctx.key:
            for f in (chain, ckpt):
                if f.is_file():
                    f.unlink()
                    ctx.log.info("knee_mcmc: the inputs changed since %s was started: starting a new run", f)
            continue
        if chain.is_file():
            problem = chain_problem(chain)
            if problem is None:
                with h5py.File(chain, "r") as f:
                    done = int(f["mcmc"].attrs["iteration"]) if "mcmc" in f else 0
                ctx.log.info("knee_mcmc: resuming the chain %s at step %d", chain.relative_to(ctx.out), done)
            else:
                set_aside(chain, problem)
        if ckpt.is_file():
            ctx.log.info("knee_mcmc: resuming nested sampling from %s", ckpt.relative_to(ctx.out))
    atomic_write_json(marker_file, {"key": ctx.key})


def _fit_runs(ctx, section: dict):
    """(runs, evidence models, reference, {model key: run name}, {mode: run name}): the
    default fit, the evidence models that differ from it, the [fit_modes]."""
    from crknee.fit.evidence import mode_section, model_sections, models_from_config
    from crknee.pipeline.fits import FitRun

    chains = ctx.out / "chains"
    runs = [FitRun("default", section, chains / DEFAULT_RUN)]
    same = json.dumps(section, sort_keys=True)
    model_run, models, reference = {}, [], None
    if "evidence" in ctx.config:
        models, reference = models_from_config(ctx.config["evidence"])
        for key, sec in model_sections(section, ctx.config["evidence"]).items():
            if json.dumps(sec, sort_keys=True) == same:
                model_run[key] = "default"
            else:
                runs.append(FitRun(f"evidence {key}", sec, chains / _run_folder("evidence", key)))
                model_run[key] = f"evidence {key}"
    mode_run = {}
    for name, mode in ctx.config.section("fit_modes").items():
        runs.append(FitRun(f"mode {name}", mode_section(section, mode), chains / _run_folder("mode", name)))
        mode_run[name] = f"mode {name}"
    return runs, models, reference, model_run, mode_run


def knee_mcmc(ctx) -> StepResult:
    """The knee-source fits (crknee.fit) on background + local SNR; Figs. 4-9, the
    evidence table, the paper's mode.

    ``DIR/chains/knee_mcmc`` is a complete ``crknee fit`` output folder (chain.h5 or
    nested.ckpt, posterior.ecsv, fit_summary.json, fit_section.json,
    fixed_components.h5), so ``crknee plot fit --run DIR/chains/knee_mcmc`` redraws its
    figures; so are ``chains/evidence_<key>`` (the evidence models that differ from the
    default fit) and ``chains/mode_<name>`` (the ``[fit_modes]``).
    """
    from crknee.fit import problem_from_config
    from crknee.fit.driver import FIXED_COMPONENTS_FILE, fit_pieces, format_summary, run_samples
    from crknee.fit.evidence import check_same_data, evidence_table, table_records
    from crknee.fit.predictive import posterior_predictive
    from crknee.fit.schema import sampler_settings
    from crknee.paper import knee_source_signed_l
    from crknee.pipeline.fits import run_fits
    from crknee.plots.fit import corner_figure, draw_all
    from crknee.sources.point import PointSource
    from crknee.validation import fit_energy_top

    section = ctx.config.section("fit")
    solution, snr = ctx.state("background"), ctx.state("local_snr")
    phi = _phi(ctx.config["propagation"])
    runs, models, reference, model_run, mode_run = _fit_runs(ctx, section)
    top = max([FIXED_E_MAX_GEV] + [fit_energy_top(r.section)[0] for r in runs])
    fixed = fixed_components(solution, snr, phi, ctx.config["knee_mcmc"]["fixed_points_per_decade"], top)
    for r in runs:
        r.folder.mkdir(parents=True, exist_ok=True)
        fixed.save(r.folder / FIXED_COMPONENTS_FILE)
    _prepare_runs(ctx, [r.folder for r in runs])
    results = run_fits(runs, fixed, ctx.workers, ctx.progress, ctx.log)
    result = results["default"]
    run_dir = runs[0].folder
    for name, res in results.items():
        ctx.log.info("knee_mcmc fit (%s):\n%s", name, format_summary(res, knee_source_signed_l()))

    problem = problem_from_config(section, fixed)
    samples, logp = run_samples(run_dir, problem)
    names = problem.parameters.free_names
    figures = draw_all(
        problem.model, problem.parameters, fit_pieces(problem, False), samples, logp, ctx.out / "figures"
    )
    best = dict(zip(problem.parameters.names, problem.parameters.full(samples[int(np.argmax(logp))])[0]))
    knee = PointSource(
        "knee source (MAP)",
        best["l_deg"],
        best["b_deg"],
        best["d_kpc"],
        best["age_Myr"],
        best["beta"],
        best["Rcut_PV"] * 1e6,
        energy_erg=_energy_erg(problem, best),
        composition=problem.model.composition_at(
            problem.parameters.full(np.array([[best[n] for n in problem.parameters.free_names]]))[0]
        ),
        diffusion=solution.diffusion,
        halo_kpc=problem.model.halo_kpc,
    )
    dipole_figures, quality = _dipole_figures(ctx, problem, best, solution, snr, knee)
    figures += dipole_figures
    predictive = posterior_predictive(
        problem.model,
        problem.parameters,
        samples,
        PREDICTIVE_E_GEV,
        seed=sampler_settings(section.get("sampler", {})).seed,
    )
    figures.append(atomic_write_table(predictive, ctx.path("tables", "knee_predictive.ecsv")))

    evidence = None
    if models:
        problems = {
            k: problem_from_config(next(r.section for r in runs if r.name == model_run[k]), fixed) for k in model_run
        }
        check_same_data(problems)
        table = evidence_table({k: results[model_run[k]] for k in model_run}, models, reference)
        figures.append(atomic_write_table(table, ctx.path("tables", "knee_evidence.ecsv")))
        evidence = {
            "reference": reference,
            "rows": table_records(table),
            "folders": {k: f"chains/{runs[[r.name for r in runs].index(model_run[k])].folder.name}" for k in model_run},
        }
    modes = {}
    for name, run_name in mode_run.items():
        r = next(r for r in runs if r.name == run_name)
        mode_problem = problem_from_config(r.section, fixed)
        m_samples, _ = run_samples(r.folder, mode_problem)
        figures += corner_figure(
            m_samples, mode_problem.parameters, ctx.path("figures", f"fig07_corner_{name}_mode.png")
        )
        modes[name] = {
            **_fit_record(results[run_name], mode_problem, m_samples),
            "label": ctx.config["fit_modes"][name].get("label", name),
            "folder": f"chains/{r.folder.name}",
        }

    summary = {
        **_fit_record(result, problem, samples),
        "map": {k: float(v) for k, v in best.items()},
        "active": result["active_constraints"],
        "checks": result["checks"],
        "inactive": result["inactive_datasets"],
        "anisotropy_active": result["anisotropy_active"],
        "anisotropy_quality": {
            "field": quality.meta["field"],
            "rows": [
                {c: (v.item() if hasattr(v, "item") else v) for c, v in zip(quality.colnames, r)} for r in quality
            ],
        },
        "evidence": evidence,
        "modes": modes,
    }
    table = QTable.read(run_dir / "posterior.ecsv", format="ascii.ecsv")
    artifacts = [atomic_write_table(table, ctx.path("tables", "knee_posterior.ecsv")), *figures]
    for r in runs:
        artifacts += sorted(p for p in r.folder.iterdir() if p.is_file() and not p.name.startswith("."))
    samples_lb = {"l_deg": samples[:, names.index("l_deg")], "d_kpc": samples[:, names.index("d_kpc")]}
    return StepResult(summary, artifacts, state={"samples": samples_lb})


def _energy_erg(problem, best: dict) -> float:
    """The injected energy W [erg] at the MAP: the fit model's derived W when it has one
    (log10_J1PeV parametrisation), else 10**log10_E_erg."""
    derived = getattr(problem.model, "derived", None)
    if derived is not None:
        values = problem.parameters.full(np.array([[best[n] for n in problem.parameters.free_names]]))
        return float(np.asarray(derived(values)["W_erg"])[0])
    return 10.0 ** best["log10_E_erg"]


def _quantiles(x) -> list:
    return [float(v) for v in np.percentile(np.asarray(x, dtype=float), [16.0, 50.0, 84.0])]


def _composition(problem, values) -> dict:
    """The knee source's abundances at equal rigidity relative to protons, [p16, p50, p84]
    per group: 10**log10_f<group> of the fit's source groups (crknee.fit.composition; H
    is the reference, 1), else the fixed ``source_composition``."""
    from crknee.fit.composition import abundance_parameter

    groups, names = getattr(problem.model, "group_names", None), problem.parameters.names
    if groups:
        return {
            g: [1.0, 1.0, 1.0] if g == "H" else _quantiles(10.0 ** values[:, names.index(abundance_parameter(g))])
            for g in groups
        }
    return {k: [float(v)] * 3 for k, v in dict(problem.model.composition.abundances).items()}


def _fit_record(result: dict, problem, samples) -> dict:
    """What the report and summary.json give of one fit: the posterior as [p16, p50, p84]
    per parameter, W [erg] (derived or 10**log10_E_erg), the source composition, the
    flags, and the sampler with its diagnostics."""
    post = result["posterior"]
    triple = {n: [post[n]["p16"], post[n]["median"], post[n]["p84"]] for n in post}
    values = problem.parameters.full(samples)
    derived = getattr(problem.model, "derived", None)
    extra = derived(values) if derived is not None else {}
    names = problem.parameters.names
    w = (
        _quantiles(extra["W_erg"])
        if "W_erg" in extra
        else _quantiles(10.0 ** values[:, names.index("log10_E_erg")])
        if "log10_E_erg" in names
        else None
    )
    composition = _composition(problem, values)
    method = result["method"]
    if method == "dynesty":
        ev = result["evidence"]
        diagnostics = {
            "log_z": ev["log_z"],
            "log_z_err": ev["log_z_err"],
            "n_effective": ev["n_effective"],
            "nlive": result["nlive"],
            "dlogz": result["dlogz"],
            "iterations": result["iterations"],
            "likelihood_calls": result["log_prob_evaluations"],
        }
    else:
        diagnostics = {
            "n_steps": result["iterations"],
            "n_walkers": result["nwalkers"],
            "tau": result["tau"],
            "n_tau_reached": result["n_tau_reached"],
            "n_tau_required": result["n_tau_required"],
            "acceptance_fraction": result["acceptance_fraction"],
            "log_prob_evaluations": result["log_prob_evaluations"],
        }
    return {
        "posterior": {k: triple[k] for k in ("l_deg", "d_kpc", "age_Myr", "Rcut_PV") if k in triple},
        "all_parameters": triple,
        "W_erg": w,
        "composition": composition,
        "converged": bool(result["converged"]),
        "method": method,
        "sampler": {"method": "dynesty nested sampling" if method == "dynesty" else "emcee MCMC", **diagnostics},
        "n_steps": result["iterations"],
        "n_walkers": result.get("nwalkers"),
        "tau": result.get("tau", {}),
        "n_tau": result.get("n_tau_required"),
        "evaluations_per_s": result["evaluations_per_s"],
        "prior_dominated": result["prior_dominated"],
        "at_prior_edge": result["at_prior_edge"],
        "wall_s": result["wall_s"],
    }


def _dipole_figures(ctx, problem, best: dict, solution, snr, knee):
    """Figs. 4-5 over 100 GeV - 10 EeV with every bundled experiment, isotropic diffusion
    (the paper's mode) beside the field-aligned dipole (the fit's field, else
    :class:`crknee.anisotropy.field.FieldAlignment`'s default), and the per-dataset fit
    quality of both at the MAP (``tables/anisotropy_fit_quality.ecsv``).  Returns (written
    paths, quality table)."""
    from dataclasses import replace as _replace

    from crknee.anisotropy import solution_dipole
    from crknee.anisotropy.field import FieldAlignment
    from crknee.data import anisotropy_compilation, load
    from crknee.fit.quality import quality_table
    from crknee.fit.schema import pieces_from_dataset
    from crknee.plots.anisotropy import E_RANGE_GEV, Component, plot_anisotropy

    field = problem.model.field or FieldAlignment()
    E = np.geomspace(*E_RANGE_GEV, 161)
    J_bg, d_bg = solution_dipole(solution, E)
    components = [Component("background", J_bg, d_bg)]
    for label, src in (("local SNR", snr), ("knee source (MAP)", knee)):
        J, d, ok = src.evaluate(E, "all")
        components.append(Component(label, J, d, ok))
    field_title = (
        f"field-aligned: B along (l, b) = ({field.l_deg:.1f}, {field.b_deg:.1f}) deg, D_perp/D_par = {field.ratio:g}"
    )
    figures = plot_anisotropy(
        ctx.out / "figures", E, components, modes={"isotropic diffusion (paper)": None, field_title: field.project}
    )
    lo, hi = problem.model.fixed.E_GeV[[0, -1]]
    # a dataset counts as fitted when it, or the copy of its rows that the fit used (meta
    # duplicate_of: KASCADE-Grande_2019 is CRDB_KASCADE-Grande), entered the likelihood
    fitted = {p.name for p in problem.pieces if p.fit}
    fitted |= {load(n).meta.get("duplicate_of") for n in fitted if n.startswith("anisotropy/")}
    pieces = []
    for i, name in enumerate(anisotropy_compilation()):
        got = pieces_from_dataset({"name": name, "window_GeV": [float(lo), float(hi)], "role": "check"}, i)
        pieces += [_replace(p, fit=p.name in fitted) for p in got]
    models = {"isotropic": _replace_field(problem.model, None), "field_aligned": _replace_field(problem.model, field)}
    values = problem.parameters.full(np.array([[best[n] for n in problem.parameters.free_names]]))
    table = quality_table(models, pieces, values)
    table.meta["field"] = field_title
    figures.append(atomic_write_table(table, ctx.path("tables", "anisotropy_fit_quality.ecsv")))
    return figures, table


def _replace_field(model, field):
    """The fit's model with another field alignment (groups, normalisation and energy scales kept)."""
    return model.with_field(field)


def candidates(ctx) -> StepResult:
    """Posterior (l, d) x X-ray binaries: HPD regions, ranked candidates, Fig. 10."""
    from crknee import catalogs as cat
    from crknee.plots.xrb_map import plot_xrb_map

    section = ctx.config["candidates"]
    samples = ctx.state("knee_mcmc")["samples"]
    binaries = cat.load_binaries(section["catalogs"])
    region = cat.HPDRegion(samples["l_deg"] * u.deg, samples["d_kpc"] * u.kpc, convention=section["convention"])
    result = cat.find_candidates(region, binaries, max_b=section["b_max_deg"] * u.deg)
    result.meta["posterior"] = "crknee reproduce: the default knee-source posterior (chains/knee_mcmc)"
    inside1, inside2 = cat.inside(result, region, 1), cat.inside(result, region, 2)
    artifacts = [atomic_write_table(result, ctx.path("tables", "candidates.ecsv"))]
    artifacts += plot_xrb_map(
        result, region, cat.microquasar_positions(binaries), ctx.path("figures", "fig10_xrb_map.png")
    )
    return StepResult(
        {
            "within_1sigma": [str(n) for n in result["name"][inside1]],
            "within_2sigma": [str(n) for n in result["name"][inside2]],
            "convention": section["convention"],
            "masses": list(region.masses),
            "n_no_distance": int(result.meta.get("n_no_distance", 0)),
        },
        artifacts,
        state=None,
    )


def _decode_background(tree, config):
    return states.decode_solution(tree, config["propagation"])


def _encode_gamma(state: dict) -> dict:
    return {
        "params": {name: dataclasses.asdict(p) for name, p in state["params"].items()},
        "bands": {name: [np.asarray(b, dtype=float) for b in band] for name, band in state["bands"].items()},
    }


def _decode_gamma(tree, config) -> dict:
    from crknee.gamma import SourceParams

    init = {f.name for f in dataclasses.fields(SourceParams) if f.init}
    params = {}
    for name, fields in tree["params"].items():
        p = SourceParams(**{k: v for k, v in fields.items() if k in init})
        object.__setattr__(p, "n_H_from_model", bool(fields.get("n_H_from_model", False)))  # as computed
        params[name] = p
    return {"params": params, "bands": {name: tuple(band) for name, band in tree["bands"].items()}}


def _decode_local_snr(tree, config):
    return states.decode_point_source(tree)


STEPS = [
    Step(
        "background",
        background,
        sections=("propagation", "bc"),
        modules=("crknee.propagation", "crknee.plots.bc", "crknee.data"),
        encode=states.encode_solution,
        decode=_decode_background,
    ),
    Step(
        "gamma",
        gamma,
        sections=("propagation", "gamma"),
        modules=(
            "crknee.gamma",
            "crknee.sources",
            "crknee.plots.gamma",
            "crknee.plots.ratio_maps",
            "crknee.plots.protons",
            "crknee.data",
            "crknee.propagation.gas",
            "crknee.paper",
        ),
        encode=_encode_gamma,
        decode=_decode_gamma,
    ),
    Step(
        "local_snr",
        local_snr,
        sections=("propagation", "local_snr"),
        needs=("background",),
        modules=("crknee.sources", "crknee.data"),
        encode=states.encode_point_source,
        decode=_decode_local_snr,
    ),
    Step(
        "protons",
        protons,
        sections=("propagation", "protons"),
        needs=("background", "gamma", "local_snr"),
        modules=("crknee.gamma", "crknee.sources", "crknee.plots.protons", "crknee.data"),
    ),
    Step(
        "knee_mcmc",
        knee_mcmc,
        sections=("propagation", "knee_mcmc", "fit", "fit_modes", "evidence"),
        needs=("background", "local_snr"),
        modules=(
            "crknee.fit",
            "crknee.anisotropy",
            "crknee.sources",
            "crknee.plots.fit",
            "crknee.plots.anisotropy",
            "crknee.data",
        ),
    ),
    Step(
        "candidates",
        candidates,
        sections=("candidates",),
        needs=("knee_mcmc",),
        modules=("crknee.catalogs", "crknee.plots.xrb_map", "crknee.data"),
    ),
]


def check_config(config) -> None:
    """The physical checks of :func:`crknee.validation.check` on ``config`` (a Config that
    :func:`crknee.config.load` made has passed them already): a bad value is a
    ConfigError naming its key before any work starts."""
    from crknee.validation import check

    check(config.to_dict())

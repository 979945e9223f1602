"""``crknee propagate [--config FILE] --out DIR``, ``crknee propagate fit`` and ``crknee plot bc``
(paper Sec. 2.1, Table 1, Fig. 1).

A thin layer over :mod:`crknee.propagation`.
"""

from __future__ import annotations

import time
from dataclasses import fields
from pathlib import Path

import astropy.units as u
import click
import numpy as np
from astropy.table import QTable

from crknee.cli import cli, plot_group
from crknee.io import atomic_write_json, atomic_write_table

#: Element fitted by a normalisation dataset, from the quantity part of its name.
NORMALISATION_ELEMENT = {"proton": "H", "helium": "He"}


def _model(R0, D0, delta, vA, reacceleration):
    from crknee.propagation import PropagationModel

    kw = {"reacceleration": reacceleration}
    if R0 is not None:
        kw["R0"] = R0 * u.GV
    if D0 is not None:
        kw["D0"] = D0 * u.cm**2 / u.s
    if delta is not None:
        kw["delta"] = delta
    if vA is not None:
        kw["v_A"] = vA * u.km / u.s
    return PropagationModel(**kw)


def _model_options(f):
    for opt in reversed(
        [
            click.option("--R0", "R0", type=float, help="Reference rigidity of eq. (2) [GV] (default 1)."),
            click.option("--D0", "D0", type=float, help="D0 of eq. (2) [cm^2/s] (Table 1: 3.2e28)."),
            click.option("--delta", type=float, help="delta of eq. (2) (Table 1: 0.33)."),
            click.option("--vA", "vA", type=float, help="Alfven speed [km/s] (Table 1: 25)."),
            click.option(
                "--reacceleration",
                type=click.Choice(["halo", "disk"]),
                default="halo",
                show_default=True,
                help="Where momentum diffusion acts.",
            ),
            click.option("--phi", type=float, default=550.0, show_default=True, help="Force-field potential [MV]."),
        ]
    ):
        f = opt(f)
    return f


def _meta(model, config_source: str, phi, norm) -> dict:
    """Table meta: every model parameter (with its unit), phi, the normalisation fit."""
    from crknee.propagation.solution import Q_UNIT
    from crknee.propagation.solver import GROUPS

    params = {}
    for fld in fields(model):
        v = getattr(model, fld.name)
        params[fld.name] = str(v) if isinstance(v, u.Quantity) else (list(v) if isinstance(v, tuple) else v)
    return {
        "generator": "crknee propagate (crknee.propagation, paper eq. 1-4, Table 1)",
        "config": config_source,
        "model": params,
        "phi": str(phi.to(u.MV)),
        "norms_cm-3_GeV-1_Myr-1": {g: float(q) for g, q in zip(GROUPS, norm.norms.to_value(Q_UNIT))},
        "normalisation_chi2": float(norm.chi2),
        "normalisation_ndof": int(norm.ndof),
    }


def _output_grid(sol, phi) -> np.ndarray:
    """Solver nodes [GeV/n] whose force-field LIS energy (Ekn + |Z|/A e phi <= Ekn + e phi)
    stays on the grid, so that every flux_earth comes from the solved LIS."""
    ekn = sol.raw.ekn
    return ekn[ekn + phi.to_value(u.GV) <= ekn[-1]]


def rigidity(ekn_GeV, name: str) -> np.ndarray:
    """Rigidity [GV] of nuclide ``name`` at kinetic energy per nucleon ``ekn_GeV`` [GeV/n]."""
    from crknee.kinematics import convert_energy

    return convert_energy(np.asarray(ekn_GeV, dtype=float) * u.GeV, "Ekn", "R", name).to_value(u.GV)


def write_tables(sol, out: Path, phi, meta: dict) -> list[Path]:
    """``out``/lis.ecsv, ratios.ecsv, gradient.ecsv (issue 3) from solution ``sol``."""
    from crknee.propagation.solution import FLUX_UNIT

    x = _output_grid(sol, phi)
    E = x * u.GeV
    flux_unit = FLUX_UNIT / u.GeV
    rows = {k: [] for k in ("species", "Z", "A", "Ek_per_nucleon", "R", "flux_lis", "flux_earth")}
    for n in sol.nuclides:
        rows["species"] += [n.name] * x.size
        rows["Z"] += [n.Z] * x.size
        rows["A"] += [n.A] * x.size
        rows["Ek_per_nucleon"].append(x)
        rows["R"].append(rigidity(x, n.name))
        rows["flux_lis"].append(sol.lis(n.name, E).to_value(flux_unit))
        rows["flux_earth"].append(sol.earth(n.name, E, phi=phi).to_value(flux_unit))
    lis = QTable(
        {
            "species": rows["species"],
            "Z": rows["Z"],
            "A": rows["A"],
            "Ek_per_nucleon": np.concatenate(rows["Ek_per_nucleon"]) * u.GeV,
            "R": np.concatenate(rows["R"]) * u.GV,
            "flux_lis": np.concatenate(rows["flux_lis"]) * flux_unit,
            "flux_earth": np.concatenate(rows["flux_earth"]) * flux_unit,
        },
        meta={
            **meta,
            "description": "Background LIS and force-field flux at Earth per nuclide, per unit "
            "kinetic energy per nucleon (GeV = GeV/n here)",
        },
    )
    R = rigidity(x, "C12") * u.GV
    light = [n.name for n in sol.nuclides if n.name == "H1" or n.Z == 2]
    R_min = max(rigidity(sol.raw.ekn[0], name) for name in light)
    R_max = min(rigidity(x[-1], name) for name in light)
    inside = (R.to_value(u.GV) >= R_min) & (R.to_value(u.GV) <= R_max)
    p_he = np.full(x.size, np.nan)
    p_he[inside] = sol.ratio("H1", "He", R[inside], "R", "earth", phi)
    ratios = QTable(
        {
            "Ek_per_nucleon": E,
            "R": R,
            "B_over_C_lis": sol.ratio("B", "C", E, "Ekn", "lis"),
            "B_over_C_earth": sol.ratio("B", "C", E, "Ekn", "earth", phi),
            "p_over_He_earth": p_he,
        },
        meta={
            **meta,
            "description": "B/C (elements, equal Ekn) in the LIS and at Earth; p/He at Earth "
            "(H1 / He element) at equal rigidity R; R is the rigidity of C12 at "
            "Ek_per_nucleon; p/He is NaN where H1 or a He isotope at R lies "
            "off the solver grid",
        },
    )
    dr, dz = sol.gradient("H1", E)
    gradient = QTable(
        {"Ek_per_nucleon": E, "R": rigidity(x, "H1") * u.GV, "dlnpsi_dr": dr, "dlnpsi_dz": dz},
        meta={
            **meta,
            "description": "Proton (H1) density gradient at the Sun: d ln psi/dr "
            "and d ln psi/dz at z = 0+ (Solution.gradient)",
        },
    )
    return [
        atomic_write_table(lis, out / "lis.ecsv"),
        atomic_write_table(ratios, out / "ratios.ecsv"),
        atomic_write_table(gradient, out / "gradient.ecsv"),
    ]


@cli.group("propagate", invoke_without_command=True)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    help="TOML config; its [propagation] keys override the paper config (crknee config show paper).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder for lis.ecsv, ratios.ecsv and gradient.ecsv (required without a subcommand).",
)
@click.pass_context
def propagate_group(ctx, config, out):
    """Background propagation of Galactic cosmic rays (paper eq. 1-4, Table 1).

    Without a subcommand: solve the model of the config, fit the primary normalisations
    (linear least squares to the config's datasets and rigidity window) and write the
    LIS / Earth spectra, ratios and proton gradient tables to --out.
    """
    if ctx.invoked_subcommand is not None:
        if config is not None or out is not None:
            raise click.UsageError(
                f"--config and --out belong to 'crknee propagate' itself, "
                f"not to 'crknee propagate {ctx.invoked_subcommand}'"
            )
        return
    if out is None:
        raise click.UsageError("crknee propagate needs --out DIR (or a subcommand: fit)")
    from crknee.config import load
    from crknee.propagation.fitting import bc_chi2, fit_normalisations
    from crknee.propagation.model import model_from_config
    from crknee.propagation.solution import Q_UNIT, solve
    from crknee.propagation.solver import GROUPS

    cfg = load(config)
    section = cfg["propagation"]
    model = model_from_config(section)
    phi = section["phi_MV"] * u.MV
    data = [(name, NORMALISATION_ELEMENT[name.split("/")[0]]) for name in section["normalisation_datasets"]]
    t0 = time.perf_counter()
    sol = solve(model, norms=np.ones(len(GROUPS)) * Q_UNIT)
    norm = fit_normalisations(sol, data=data, window_GV=tuple(section["normalisation_window_GV"]), phi=phi)
    sol = sol.with_norms(norm.norms)
    seconds = time.perf_counter() - t0
    paths = write_tables(sol, Path(out), phi, _meta(model, cfg.source, phi, norm))
    chi2, npts = bc_chi2(sol, phi=phi)
    bc10 = float(sol.ratio("B", "C", 10 * u.GeV, "Ekn", "earth", phi))
    click.echo(
        f"B/C(10 GeV/n) = {bc10:.4f} at Earth (phi = {phi:.0f}); AMS-02 B/C chi2 = {chi2:.1f} "
        f"for {npts} points; normalisation chi2 = {norm.chi2:.1f} for {norm.ndof} dof; {seconds:.2f} s"
    )
    for p in paths:
        click.echo(str(p))


@propagate_group.command("fit")
@click.option("--R0", "R0", type=float, help="Reference rigidity of eq. (2) [GV] (default 1).")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the best fit as JSON.")
def fit_cmd(R0, out):
    """Fit D0, delta, v_A to the AMS-02 B/C ratio (phi = 550 MV) and compare with Table 1."""
    from crknee.propagation import PropagationModel, fit_propagation

    start = PropagationModel() if R0 is None else PropagationModel(R0=R0 * u.GV)
    r = fit_propagation(start)
    m = r.model
    rows = {
        "D0_cm2_s": [float(m.D0.value), float(r.errors["D0"].value), 3.2e28],
        "delta": [float(m.delta), float(r.errors["delta"].value), 0.33],
        "v_A_km_s": [float(m.v_A.value), float(r.errors["v_A"].value), 25.0],
    }
    for k, (best, err, paper) in rows.items():
        click.echo(f"{k} = {best:.4g} +- {err:.2g} (Table 1: {paper:g})")
    click.echo(f"chi2 = {r.chi2:.1f} for {r.ndof} dof (reduced {r.chi2 / r.ndof:.2f})")
    if out:
        atomic_write_json(out, {"best_err_table1": rows, "chi2": r.chi2, "ndof": r.ndof, "R0_GV": float(m.R0.value)})


@plot_group().command("bc")
@_model_options
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Figure file (png, pdf, ...).")
def plot_bc_cmd(R0, D0, delta, vA, reacceleration, phi, out):
    """Paper Fig. 1: B/C at Earth and LIS against AMS-02, PAMELA and DAMPE."""
    from crknee.plots.bc import plot_bc
    from crknee.propagation import solve

    sol = solve(_model(R0, D0, delta, vA, reacceleration))
    for p in plot_bc(sol, out, phi=phi * u.MV):
        click.echo(str(p))
    click.echo(f"B/C(10 GeV/n) = {float(sol.ratio('B', 'C', 10 * u.GeV, phi=phi * u.MV)):.4f}")

"""``crknee propagate solve|fit`` and ``crknee plot bc`` (paper Sec. 2.1, Table 1, Fig. 1).

A thin layer over :mod:`crknee.propagation`.
"""
from __future__ import annotations

import time
from pathlib import Path

import astropy.units as u
import click

from crknee.cli import cli, plot_group
from crknee.io import atomic_write_json, atomic_write_table


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
    for opt in reversed([
        click.option("--R0", "R0", type=float, help="Reference rigidity of eq. (2) [GV] (default 1)."),
        click.option("--D0", "D0", type=float, help="D0 of eq. (2) [cm^2/s] (Table 1: 3.2e28)."),
        click.option("--delta", type=float, help="delta of eq. (2) (Table 1: 0.33)."),
        click.option("--vA", "vA", type=float, help="Alfven speed [km/s] (Table 1: 25)."),
        click.option("--reacceleration", type=click.Choice(["halo", "disk"]), default="halo", show_default=True,
                     help="Where momentum diffusion acts."),
        click.option("--phi", type=float, default=550.0, show_default=True, help="Force-field potential [MV]."),
    ]):
        f = opt(f)
    return f


def _summary(sol, phi, seconds):
    from crknee.propagation.fitting import bc_chi2

    chi2, n = bc_chi2(sol, phi=phi)
    bc10 = float(sol.ratio("B", "C", 10 * u.GeV, "Ekn", "earth", phi))
    q = sol.norms.value
    return {
        "solve_seconds": seconds,
        "BC_10GeVn_earth": bc10,
        "BC_10GeVn_lis": float(sol.ratio("B", "C", 10 * u.GeV, "Ekn", "lis")),
        "BC_chi2_AMS02_2021": chi2,
        "BC_points": n,
        "norms_cm-3_GeV-1_Myr-1": {"H": q[0], "He": q[1], "Z>2": q[2]},
    }


@cli.group("propagate")
def propagate_group():
    """Background propagation of Galactic cosmic rays (paper eq. 1-4)."""


@propagate_group.command("solve")
@_model_options
@click.option("--out", type=click.Path(file_okay=False), help="Folder for lis.ecsv and summary.json.")
def solve_cmd(R0, D0, delta, vA, reacceleration, phi, out):
    """Solve the model (Table 1 defaults), fit the p/He normalisations, report B/C."""
    from astropy.table import QTable

    from crknee.propagation import solve

    model = _model(R0, D0, delta, vA, reacceleration)
    t0 = time.perf_counter()
    sol = solve(model)
    s = _summary(sol, phi * u.MV, time.perf_counter() - t0)
    click.echo(f"B/C(10 GeV/n) = {s['BC_10GeVn_earth']:.4f} at Earth, {s['BC_10GeVn_lis']:.4f} LIS; "
               f"chi2 = {s['BC_chi2_AMS02_2021']:.1f} for {s['BC_points']} AMS-02 B/C points; "
               f"{s['solve_seconds']:.2f} s")
    if out:
        ekn = sol.ekn[:-1]
        cols = {"Ekn": ekn}
        for el in ("H", "He", "B", "C", "O", "Fe"):
            if any(n.element == el for n in sol.nuclides):
                cols[f"J_{el}"] = sol.lis(el, ekn)
        atomic_write_table(QTable(cols, meta={"description": "LIS per unit Ekn, crknee.propagation"}),
                           Path(out) / "lis.ecsv")
        atomic_write_json(Path(out) / "summary.json", s)


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
        atomic_write_json(out, {"best_err_table1": rows, "chi2": r.chi2, "ndof": r.ndof,
                                "R0_GV": float(m.R0.value)})


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

"""``crknee data``: list, show, plot, add and verify datasets (a layer over crknee.data)."""
from __future__ import annotations

import click
import numpy as np

from crknee import data
from crknee.cli import cli
from crknee.data.schema import QUANTITIES, SPECTRA
from crknee.errors import DataError

#: Spectra drawn per particle in total energy (E^2.6-weighted); B/C stays in its variable.
PER_PARTICLE = ("proton", "helium", "light", "allparticle")


@cli.group("data")
def data_group():
    """Observational datasets bundled with crknee, and your own."""


@data_group.command("list")
@click.option("--quantity", "-q", type=click.Choice(QUANTITIES), help="Only this quantity.")
def list_cmd(quantity):
    """Every dataset name with its reference (an unreadable dataset is listed as such)."""
    bad = 0
    for name in data.names(quantity):
        try:
            reference = data.load(name).meta.get("reference", "")
        except (DataError, OSError, UnicodeDecodeError, ValueError) as exc:
            bad += 1
            reference = f"UNREADABLE: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        click.echo(f"{name}\t{reference}")
    if bad:
        raise DataError(f"{bad} dataset(s) cannot be read (marked UNREADABLE above)")


@data_group.command("show")
@click.argument("name")
def show_cmd(name):
    """Metadata and table of dataset NAME."""
    table = data.load(name)
    for key, value in table.meta.items():
        if key != "source_header":
            click.echo(f"{key}: {value}")
    for line in table.meta.get("source_header", []):
        click.echo(f"source: # {line}")
    click.echo("")
    click.echo("\n".join(table.pformat(max_lines=-1, max_width=-1)))


def _plot_per_particle(ax, names):
    """E^2.6-weighted intensities on the total-energy-per-particle axis."""
    from crknee.plots.style import SPECTRUM_WEIGHT as w

    unit = "m-2 s-1 sr-1 GeV-1"
    for i, name in enumerate(names):
        table = data.to_variable(data.load(name), "Etot")
        x = table["x"].to_value("GeV")
        y, lo, hi = (table[c].to_value(unit) * x**w for c in ("y", "y_err_lo", "y_err_hi"))
        _errorbar(ax, i, x, y, lo, hi, table["upper_limit"], name.partition("/")[2])
    ax.set_xlabel("total energy per particle E [GeV]")
    ax.set_ylabel(f"E^{w:g} J(E) [GeV^{w - 1:g} m^-2 s^-1 sr^-1]")


def _plot_ratio(axes, names):
    """B/C against its published variable: Ekn (left panel) and R (right panel)."""
    for ax, var, label in zip(axes, ("Ekn", "R"), ("kinetic energy per nucleon Ekn [GeV/n]", "rigidity R [GV]")):
        for i, name in enumerate(names):
            t = data.load(name)
            if t.meta["x_variable"] == var:
                _errorbar(ax, i, t["x"].value, t["y"].value, t["y_err_lo"].value, t["y_err_hi"].value,
                          t["upper_limit"], name.partition("/")[2])
        ax.set_xlabel(label)
        ax.set_ylabel("B/C")


def _errorbar(ax, i, x, y, lo, hi, upper, label):
    from crknee.plots.style import marker

    upper = np.asarray(upper, dtype=bool)
    err = np.vstack([np.where(upper, 0.5 * y, np.nan_to_num(lo)), np.where(upper, 0.0, np.nan_to_num(hi))])
    ax.errorbar(x, y, yerr=err, uplims=upper, fmt=marker(i), ms=4, capsize=0, lw=0.8, label=label)


@data_group.command("plot")
@click.argument("quantity", type=click.Choice(SPECTRA + ("anisotropy",)))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Output image, e.g. FILE.png.")
def plot_cmd(quantity, out):
    """Plot every dataset of QUANTITY (spectra E^2.6-weighted vs Etot; B/C; anisotropy amplitude)."""
    from crknee.plots.style import new_figure, save

    names = data.names(quantity)
    if not names:
        raise DataError(f"no dataset of quantity {quantity!r}")
    if quantity == "bc":
        fig, axes = new_figure(11.0, 4.8, ncols=2)
        _plot_ratio(axes, names)
    else:
        fig, ax = new_figure(7.5, 5.0)
        axes = [ax]
    if quantity == "anisotropy":
        for i, name in enumerate(names):
            t = data.load(name)
            x = np.where(np.isfinite(t["x"].value), t["x"].value, t["x_lo"].value)
            _errorbar(ax, i, x, t["y"].value, t["y_err_lo"].value, t["y_err_hi"].value, t["upper_limit"], name.partition("/")[2])
        ax.set_xlabel("energy per particle E [GeV] (threshold where only E > E_lo is published)")
        ax.set_ylabel("dipole amplitude")
    elif quantity in PER_PARTICLE:
        _plot_per_particle(ax, names)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=6, ncol=2)
    for path in save(fig, out):
        click.echo(str(path))


@data_group.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--quantity", "-q", required=True, type=click.Choice(QUANTITIES), help="What the file holds.")
@click.option("--replace", is_flag=True, help="Overwrite your own dataset of the same name.")
def add_cmd(file, quantity, replace):
    """Validate FILE (CSV or ECSV, see docs/data.md) and store it in your data folder."""
    name = data.add(file, quantity, replace=replace)
    click.echo(f"added {name} ({data.user_dir()})")


@data_group.command("verify")
def verify_cmd():
    """Check the bundled files against MANIFEST.sha256."""
    problems = data.verify_manifest()
    if problems:
        raise DataError(f"bundled data damaged: {problems[0]} ({len(problems)} problem(s))")
    click.echo("bundled data intact")

"""``crknee data``: list, show, plot, add and verify datasets (a layer over crknee.data)."""

from __future__ import annotations

import click
import numpy as np

from crknee import data
from crknee.cli import cli
from crknee.data.schema import QUANTITIES, SPECTRA
from crknee.errors import DataError


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
                _errorbar_table(ax, i, t, name.partition("/")[2])
        ax.set_xlabel(label)
        ax.set_ylabel("B/C")


def _errorbar(ax, i, x, y, lo, hi, upper, label, color=None, filled=True):
    from crknee.plots.style import marker

    upper = np.asarray(upper, dtype=bool)
    err = np.vstack([np.where(upper, 0.5 * y, np.nan_to_num(lo)), np.where(upper, 0.0, np.nan_to_num(hi))])
    ax.errorbar(
        x,
        y,
        yerr=err,
        uplims=upper,
        fmt=marker(i),
        ms=4,
        capsize=0,
        lw=0.8,
        label=label,
        color=color,
        mfc=None if filled else "none",
    )


def _errorbar_table(ax, i, t, label, color=None, filled=True, x_unit=None):
    """:func:`_errorbar` of a bundled table's x, y, errors and upper-limit flags (x in
    ``x_unit``, else in the table's own unit)."""
    x = t["x"].value if x_unit is None else t["x"].to_value(x_unit)
    _errorbar(ax, i, x, t["y"].value, t["y_err_lo"].value, t["y_err_hi"].value, t["upper_limit"], label, color, filled)


def _experiment_of(name: str, suffix: str) -> str:
    """Legend label of an element dataset: its stem without the element suffix (AMS02_C -> AMS02)."""
    stem = name.partition("/")[2]
    return stem[: -len(suffix)] if suffix and stem.endswith(suffix) else stem


def _styles(labels):
    """(marker index, colour) per experiment label, the same in every panel of a figure."""
    import matplotlib.pyplot as plt

    labels = sorted(set(labels))
    colours = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20").colors
    return {label: (i, colours[i % len(colours)]) for i, label in enumerate(labels)}


def _grid(n, width=3.2, height=2.6, ncols=4):
    """Figure with ``n`` panels on a grid of ``ncols`` columns; fixed margins (constrained layout
    costs ~10 s on a figure of 20 panels with errorbars)."""
    import matplotlib.pyplot as plt

    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    fig.subplots_adjust(
        left=0.5 / (width * ncols) * 1.6,
        right=0.99,
        bottom=0.45 / (height * nrows),
        top=1 - 0.3 / (height * nrows),
        wspace=0.42,
        hspace=0.42,
    )
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _plot_nuclei(names):
    """Element spectra, E^2.6-weighted against the total energy per particle, one panel per element.

    Each dataset moves to Etot with its element's conversion nuclide (docs/data.md).
    """
    from crknee.kinematics import Z_OF
    from crknee.plots.style import SPECTRUM_WEIGHT as w

    unit = "m-2 s-1 sr-1 GeV-1"
    tables = {name: data.load(name) for name in names}
    elements = sorted({t.meta["species"] for t in tables.values()}, key=Z_OF.get)
    labels = {name: _experiment_of(name, "_" + t.meta["species"]) for name, t in tables.items()}
    style = _styles(labels.values())
    fig, axes = _grid(len(elements))
    for ax, element in zip(axes, elements):
        for name, table in tables.items():
            if table.meta["species"] != element:
                continue
            t = data.to_variable(table, "Etot")
            x = t["x"].to_value("GeV")
            y, lo, hi = (t[c].to_value(unit) * x**w for c in ("y", "y_err_lo", "y_err_hi"))
            i, colour = style[labels[name]]
            _errorbar(ax, i, x, y, lo, hi, t["upper_limit"], labels[name], colour)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{element} (Z = {Z_OF[element]})", fontsize=9)
        ax.set_xlabel("E per particle [GeV]", fontsize=8)
        ax.set_ylabel(f"E^{w:g} J [GeV^{w - 1:g} m^-2 s^-1 sr^-1]", fontsize=7)
        ax.tick_params(labelsize=7)
    handles = {}
    for ax in axes:
        handles.update(zip(*reversed(ax.get_legend_handles_labels())))
    spare = len(axes) % 4
    fig.legend(
        [handles[k] for k in sorted(handles)],
        sorted(handles),
        loc="lower right",
        ncol=2 if spare else 6,
        fontsize=9,
        title="experiment (x moved to the total energy per particle)",
        title_fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.99, 0.02) if spare else None,
    )
    return fig


def _plot_ratios(names):
    """Every element ratio (B/C included) against its published variable, one panel per ratio.

    Filled markers: rigidity R [GV]; open markers: energy per nucleon Ekn [GeV/n] (or the
    variable named in the legend). A ratio at equal R and at equal Ekn differ, so each
    point stays on its own variable.
    """
    tables = {name: data.load(name) for name in names}
    pairs = []
    for t in tables.values():
        pair = (t.meta["numerator"], t.meta["denominator"])
        if pair not in pairs:
            pairs.append(pair)
    labels = {name: name.partition("/")[2].split("_")[0] for name in names}  # the experiment: AMS02, CALET, ...
    style = _styles(labels.values())
    fig, axes = _grid(len(pairs), ncols=5)
    for ax, pair in zip(axes, pairs):
        for name, t in tables.items():
            if (t.meta["numerator"], t.meta["denominator"]) != pair:
                continue
            var = t.meta["x_variable"]
            i, colour = style[labels[name]]
            _errorbar_table(
                ax,
                i,
                t,
                f"{name.partition('/')[2]} ({var})",
                colour,
                filled=var == "R",
            )
        ax.set_xscale("log")
        ax.set_title(f"{pair[0]}/{pair[1]}", fontsize=9)
        ax.set_xlabel("R [GV] (filled) or Ekn [GeV/n] (open)", fontsize=7)
        ax.set_ylabel(f"{pair[0]}/{pair[1]}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=5, loc="best")
    return fig


def _plot_lna(names):
    """<lnA> against the total energy per particle, with ln A of p, He, N and Fe as reference lines."""
    from crknee.kinematics import nuclide
    from crknee.plots.style import new_figure

    fig, ax = new_figure(8.0, 5.0)
    for i, name in enumerate(names):
        t = data.load(name)
        model = t.meta.get("hadronic_model")
        label = name.partition("/")[2] + (f" ({model})" if model and model not in name else "")
        _errorbar_table(ax, i, t, label, x_unit="GeV")
    for species, text in (("H1", "p"), ("He4", "He"), ("N14", "N"), ("Fe56", "Fe")):
        lna = np.log(nuclide(species).A)
        ax.axhline(lna, color="0.5", lw=0.8, ls="--", zorder=0)
        ax.annotate(
            f"{text} (ln A = {lna:.2f})",
            (1.0, lna),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="0.35",
        )
    ax.set_xscale("log")
    lowest = min(np.nanmin(t["y"].value - np.nan_to_num(t["y_err_lo"].value)) for t in map(data.load, names))
    ax.set_ylim(min(-0.3, lowest - 0.1), np.log(nuclide("Fe56").A) + 0.4)
    ax.set_xlabel("total energy per particle E [GeV]")
    ax.set_ylabel("<ln A>  (error bars: stat (+) sys)")
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    return fig


@data_group.command("plot")
@click.argument("quantity", type=click.Choice(SPECTRA + ("anisotropy",)))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Output image, e.g. FILE.png.")
@click.option(
    "--cross-check", is_flag=True, help="Anisotropy: also draw the cross-check digitisations (Li et al. 2024)."
)
def plot_cmd(quantity, out, cross_check):
    """Plot every dataset of QUANTITY (spectra E^2.6-weighted vs Etot; element spectra one panel per element;
    B/C; every element ratio one panel per ratio, B/C included; <lnA> with ln A of p, He, N, Fe; anisotropy
    amplitude and phase)."""
    from crknee.plots.style import new_figure, save

    if quantity == "anisotropy":
        from crknee.plots.anisotropy import compilation_figure

        for path in compilation_figure(out, cross_check):
            click.echo(str(path))
        return
    names = data.names(quantity) if quantity != "ratio" else data.ratio_names()
    if not names:
        raise DataError(f"no dataset of quantity {quantity!r}")
    composition = {"nuclei": _plot_nuclei, "ratio": _plot_ratios, "lnA": _plot_lna}
    if quantity in composition:
        for path in save(composition[quantity](names), out):
            click.echo(str(path))
        return
    if quantity == "bc":
        fig, axes = new_figure(11.0, 4.8, ncols=2)
        _plot_ratio(axes, names)
    else:
        fig, ax = new_figure(7.5, 5.0)
        axes = [ax]
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
@click.option(
    "--convention",
    help="Anisotropy: what the amplitude is (d_perp, r1, r1_dec0, d_3d), if the file has no '# convention:' line.",
)
@click.option("--site-latitude", "site_latitude_deg", type=float, help="Anisotropy 'r1': site latitude [deg].")
@click.option("--zenith-max", "zenith_max_deg", type=float, help="Anisotropy 'r1': zenith-angle cut [deg].")
@click.option("--upper-limit-cl", type=float, help="Anisotropy: confidence level of the upper limits, e.g. 0.99.")
@click.option("--species", help="Element spectrum (nuclei): the element, e.g. C, if the file has no '# species:' line.")
@click.option("--numerator", help="Ratio: the numerator element, if the file has no '# numerator:' line.")
@click.option("--denominator", help="Ratio: the denominator element, if the file has no '# denominator:' line.")
@click.option("--hadronic-model", help="<lnA> or an air-shower spectrum: the hadronic model, e.g. EPOS-LHC.")
def add_cmd(
    file,
    quantity,
    replace,
    convention,
    site_latitude_deg,
    zenith_max_deg,
    upper_limit_cl,
    species,
    numerator,
    denominator,
    hadronic_model,
):
    """Validate FILE (CSV or ECSV, see docs/data.md) and store it in your data folder.

    An anisotropy file declares its convention (a '# convention:' line or --convention; with
    the site for 'r1') and, if it gives upper limits, their confidence level. An element
    spectrum names its element ('# species: C'), a ratio its elements ('# numerator: B',
    '# denominator: O').
    """
    extra = dict(
        convention=convention,
        site_latitude_deg=site_latitude_deg,
        zenith_max_deg=zenith_max_deg,
        upper_limit_cl=upper_limit_cl,
    )
    if quantity != "anisotropy" and any(v is not None for v in extra.values()):
        raise DataError(
            f"--convention, --site-latitude, --zenith-max and --upper-limit-cl are for anisotropy "
            f"files; this one is {quantity!r}"
        )
    for option, value, allowed in (
        ("--species", species, ("nuclei",)),
        ("--numerator", numerator, ("ratio",)),
        ("--denominator", denominator, ("ratio",)),
        ("--hadronic-model", hadronic_model, SPECTRA),
    ):
        if value is not None and quantity not in allowed:
            raise DataError(f"{option} is for {' or '.join(allowed)} files; this one is {quantity!r}")
    extra.update(species=species, numerator=numerator, denominator=denominator, hadronic_model=hadronic_model)
    name = data.add(file, quantity, replace=replace, meta=extra)
    click.echo(f"added {name} ({data.user_dir()})")


@data_group.command("verify")
def verify_cmd():
    """Check the bundled files against MANIFEST.sha256."""
    problems = data.verify_manifest()
    if problems:
        raise DataError(f"bundled data damaged: {problems[0]} ({len(problems)} problem(s))")
    click.echo("bundled data intact")

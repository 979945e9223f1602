"""``crknee gamma``: hadronic SED fits, model SEDs; ``crknee plot gamma`` / ``plot protons``
(paper Figs. 2-3).  A thin layer over :mod:`crknee.gamma`."""

from __future__ import annotations

import astropy.units as u
import click
import numpy as np

from crknee.cli import cli, plot_group
from crknee.io import atomic_write_json

SOURCE_HELP = "Source name (repeatable; default: the four of Table 2)."


@cli.group("gamma")
def gamma_group():
    """Hadronic gamma rays of the LHAASO microquasars (paper Sec. 3)."""


def _results(sources, nsteps, burn, containment="diffusive"):
    from crknee.gamma import PAPER_SOURCES, analyse_all

    names = tuple(sources) or PAPER_SOURCES
    overrides = {n: {"containment": containment} for n in names}
    return analyse_all(names, overrides, nsteps=nsteps, burn=burn)


@gamma_group.command("fit")
@click.option("--source", "-s", "sources", multiple=True, help=SOURCE_HELP)
@click.option("--nsteps", default=1200, show_default=True, help="emcee steps per walker.")
@click.option("--burn", default=400, show_default=True, help="Steps discarded as burn-in.")
@click.option(
    "--containment",
    type=click.Choice(["diffusive", "two_zone", "all"]),
    default="diffusive",
    show_default=True,
    help="Protons in the region: after diffusion (one zone, or slow only inside the "
    "region: two_zone), or all injected (no escape).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the results as JSON.")
def fit_cmd(sources, nsteps, burn, containment, out):
    """Fit L0, beta (and a cutoff where the data demand it) to each source's SED points,
    compare with Table 2, and give the protons at Earth over LHAASO's at 1 PeV."""
    from crknee.gamma import DEFAULTS, knee_ratios

    results = _results(sources, nsteps, burn, containment)
    ratios = knee_ratios(results)
    rows = {}
    for name, r in results.items():
        p, t2 = r.params, DEFAULTS.get(name)
        s = r.summary()
        s["proton_ratio_1PeV"] = ratios[name]
        s["table2"] = {"beta": t2.beta, "L0_erg_s": t2.L0_erg_s} if t2 is not None and t2.table2 else None
        rows[name] = s
        post = s.get("posterior", {})

        def err(k, unit="", post=post):
            return f" (+{post[k]['plus']:.2g}/-{post[k]['minus']:.2g}{unit})" if k in post else ""

        cut = f", Rcut = {p.Rcut_GV:.3g} GV{err('log10_Rcut', ' dex')}" if r.cutoff else ""
        fit = f"chi2 = {r.chi2:.2f} for {r.n_points} points ({r.n_upper} UL)" if post else "not fitted"
        click.echo(
            f"{name} [{r.label}]: beta = {p.beta:.3f}{err('beta')}, L0 = {p.L0_erg_s:.3g} erg/s"
            f"{err('log10_L0', ' dex')}{cut}; {fit}; Table 2: {s['table2']}; "
            f"protons(1 PeV)/LHAASO = {ratios[name]:.3g}"
        )
    if out:
        atomic_write_json(out, rows)


@gamma_group.command("sed")
@click.option("--source", "-s", required=True, help="Source name (its default parameters).")
@click.option("--emin", default=1.0, show_default=True, help="Lowest photon energy [GeV].")
@click.option("--emax", default=1e6, show_default=True, help="Highest photon energy [GeV].")
@click.option("-n", default=100, show_default=True, help="Number of energies.")
def sed_cmd(source, emin, emax, n):
    """Model SED E^2 dN/dE [erg cm^-2 s^-1] of SOURCE with its default (Table 2) parameters."""
    from crknee.gamma import HadronicSource
    from crknee.gamma.params import defaults

    E = np.geomspace(emin, emax, n) * u.GeV
    sed = HadronicSource(defaults(source)).sed(E)
    click.echo("# E_GeV  E2dNdE_erg_cm-2_s-1")
    for e, f in zip(E.value, sed.value):
        click.echo(f"{e:.6g} {f:.6g}")


plot = plot_group()


@plot.command("gamma")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output figure (png/pdf).")
@click.option("--nsteps", default=1200, show_default=True, help="emcee steps per walker.")
@click.option("--burn", default=400, show_default=True, help="Steps discarded as burn-in.")
def plot_gamma_cmd(out, nsteps, burn):
    """Paper figure 2: the four microquasars' SEDs, posterior bands and data."""
    from crknee.plots.gamma import plot_gamma

    for path in plot_gamma(_results((), nsteps, burn), out, formats=None):
        click.echo(str(path))


@plot.command("protons")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output figure (png/pdf).")
@click.option(
    "--curves",
    type=click.Path(exists=True, dir_okay=False),
    help="ECSV with columns E [GeV], background and local_snr [m-2 s-1 sr-1 GeV-1] (optional).",
)
@click.option("--nsteps", default=1200, show_default=True, help="emcee steps per walker.")
@click.option("--burn", default=400, show_default=True, help="Steps discarded as burn-in.")
def plot_protons_cmd(out, curves, nsteps, burn):
    """Paper figure 3: protons at Earth of each microquasar (dashed) against the data."""
    from crknee.plots.protons import plot_protons

    bg = snr = None
    if curves:
        from astropy.table import QTable

        from crknee.errors import InputError

        t = QTable.read(curves, format="ascii.ecsv")
        missing = {"E", "background", "local_snr"} - set(t.colnames)
        if missing:
            raise InputError(f"{curves}: missing column(s) {sorted(missing)}")
        bg, snr = (t["E"], t["background"]), (t["E"], t["local_snr"])
    results = _results((), nsteps, burn)
    for path in plot_protons({n: r.params for n, r in results.items()}, bg, snr, path=out, formats=None):
        click.echo(str(path))


@plot.command("ratio-maps")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output figure (png/pdf).")
@click.option("--source", "-s", "sources", multiple=True, help=SOURCE_HELP)
@click.option(
    "--chi-points", default=40, show_default=True, help="chi grid points, 1e-3..1 (one SED fit each, per age)."
)
@click.option("--n-H-points", "nh_points", default=40, show_default=True, help="n_H a^2 grid points (exact scaling).")
@click.option("--leptonic/--no-leptonic", default=True, show_default=True, help="Also fit inverse Compton (naima).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write ranges and likelihood ratios as JSON.")
def plot_ratio_maps_cmd(out, sources, chi_points, nh_points, leptonic, json_out):
    """Issue 12: protons at Earth / LHAASO at 1 PeV over (n_H a^2, chi) at three ages, the
    SED refitted at every point; prints the default value and the plausible range."""
    from crknee.gamma import PAPER_SOURCES, analyse_all
    from crknee.gamma.bands import knee_constraints
    from crknee.paper import TABLE2
    from crknee.plots.ratio_maps import plot_ratio_maps

    names = tuple(sources) or PAPER_SOURCES
    kc = knee_constraints(
        analyse_all(names, sample=False),
        chis=np.geomspace(1e-3, 1.0, chi_points),
        n_H_factors=np.geomspace(1e-3, 1e3, nh_points),
        leptonic=leptonic,
    )
    for name, c in kc.items():
        m = c.map
        i, j = m.index(1.0, m.params.age_Myr)
        lr = c.likelihood_ratio
        click.echo(
            f"{name} [{m.label}]: n_H = {m.params.n_H_cm3:.3g} cm^-3, a = {m.a_pc:.3g} pc; "
            f"protons(1 PeV)/LHAASO = {m.ratio_ref[i, j]:.3g} (chi = 1), plausible {c.range[0]:.3g} - "
            f"{c.range[1]:.3g}"
            + ("" if lr is None else f"; -2 ln(L_lep/L_had) = {lr['minus2_ln_L_lep_over_L_had']:.2f}")
        )
    if json_out:
        atomic_write_json(json_out, {n: c.summary() for n, c in kc.items()})
    for path in plot_ratio_maps(
        {n: c.map for n, c in kc.items()}, out, {n: v["L0_erg_s"] for n, v in TABLE2.items()}, formats=None
    ):
        click.echo(str(path))

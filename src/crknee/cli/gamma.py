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
@click.option("--containment", type=click.Choice(["diffusive", "all"]), default="diffusive", show_default=True,
              help="Protons in the region: after diffusion, or all injected (no escape).")
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

        def err(k, unit=""):
            return f" (+{post[k]['plus']:.2g}/-{post[k]['minus']:.2g}{unit})" if k in post else ""

        cut = f", Rcut = {p.Rcut_GV:.3g} GV{err('log10_Rcut', ' dex')}" if r.cutoff else ""
        fit = f"chi2 = {r.chi2:.2f} for {r.n_points} points ({r.n_upper} UL)" if post else "not fitted"
        click.echo(f"{name} [{r.label}]: beta = {p.beta:.3f}{err('beta')}, L0 = {p.L0_erg_s:.3g} erg/s"
                   f"{err('log10_L0', ' dex')}{cut}; {fit}; Table 2: {s['table2']}; "
                   f"protons(1 PeV)/LHAASO = {ratios[name]:.3g}")
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
@click.option("--curves", type=click.Path(exists=True, dir_okay=False),
              help="ECSV with columns E [GeV], background and local_snr [m-2 s-1 sr-1 GeV-1] (optional).")
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


"""``crknee population``: many realisations of a Galaxy of discrete sources, on dask.

Writes into ``--out``: ``realisations.nc`` (the xarray Dataset, NetCDF), ``summary.ecsv``
(bands per energy), ``dominance.json`` (P(one source > 50 % of the 1 PeV protons) and the
dominant sources), the figures ``population_*.png``, and ``chunks/`` (checkpoints: rerun
the same command to resume a killed run).
"""

from __future__ import annotations

import os

import click


@click.command("population")
@click.option("--n", "n", type=int, required=True, help="Number of realisations.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the run (numpy SeedSequence).")
@click.option("--scheduler", default=None, help="dask-distributed scheduler address (default: a local cluster).")
@click.option("--workers", type=int, default=None, help="Local worker processes [default: number of CPUs].")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Output folder (checkpoints inside).")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="TOML file with [population] (and [propagation]) overrides; default: the bundled population.toml.",
)
@click.option("--chunk", type=int, default=None, help="Realisations per task and checkpoint [default: 25].")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar.")
def population(n, seed, scheduler, workers, out, config, chunk, progress):
    """Realisations of the source populations: p, He, all-particle fluxes, dipole, the
    brightest source's share; how often one source owns the knee (docs/population.md)."""
    from pathlib import Path

    from crknee.io import atomic_target, atomic_write_json, atomic_write_table
    from crknee.population import ensemble, stats
    from crknee.population.spec import load_spec

    spec = load_spec(config)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    ds = ensemble.run(
        spec,
        n,
        seed,
        workers=workers,
        scheduler=scheduler,
        out=out,
        chunk=chunk or ensemble.DEFAULT_CHUNK,
        progress=progress,
    )
    out = Path(out)
    with atomic_target(out / "realisations.nc", suffix=".nc") as tmp:
        ds.to_netcdf(tmp, engine="scipy")
    atomic_write_table(stats.summary_table(ds), out / "summary.ecsv")
    dom = stats.dominance(ds, 1.0e6, 0.5) if np.any(np.isclose(ds["energy"].values, 1e6)) else None
    classes = [c.name for c in spec.classes]
    if dom is not None:
        atomic_write_json(
            out / "dominance.json",
            {
                "E_GeV": dom.E_GeV,
                "threshold": dom.threshold,
                "probability": dom.probability,
                "ci68": [dom.lo, dom.hi],
                "n_realisations": dom.n,
                "dominant_by_class": {c: int(np.sum(dom.cls == i)) for i, c in enumerate(classes)},
                "dominant_outside_diffusive_regime": int(np.sum(~dom.valid)),
                "d_kpc_quantiles_16_50_84": np.quantile(dom.d_kpc, [0.16, 0.5, 0.84]).tolist()
                if dom.d_kpc.size
                else None,
                "age_Myr_quantiles_16_50_84": np.quantile(dom.age_Myr, [0.16, 0.5, 0.84]).tolist()
                if dom.d_kpc.size
                else None,
            },
        )
    _figures(ds, dom, classes, out)
    click.echo(
        f"{n} realisations -> {out}"
        + (
            f"; P(one source > 50 % of 1 PeV protons) = {dom.probability:.4f} (68 %: {dom.lo:.4f}-{dom.hi:.4f})"
            if dom is not None
            else ""
        )
    )


def _figures(ds, dom, classes, out):
    from crknee import paper
    from crknee.data import load, names, to_variable
    from crknee.plots import population as fig
    from crknee.plots.style import SPECTRUM_WEIGHT  # (importing style selects Agg: the CLI writes files)

    E = ds["energy"].values
    lo, hi = E.min() / 3.0, E.max() * 3.0

    def spectra(quantity):
        tables = []
        for name in names(quantity):
            t = load(name)
            t = t if t.meta.get("x_variable") == "Etot" else to_variable(t, "Etot")
            x = t["x"].value
            if np.any((x > lo) & (x < hi)):
                tables.append((name.split("/", 1)[1], t[(x > lo) & (x < hi)]))
        return tables[:8]

    data = {"flux_p": spectra("proton"), "flux_he": spectra("helium"), "flux_all": spectra("allparticle")}
    aniso = [(n.split("/", 1)[1], load(n)) for n in names("anisotropy")]
    aniso = [(label, t) for label, t in aniso if np.any(np.isfinite(t["x"].value))]
    fig.save_figure(fig.flux_bands_figure(ds, SPECTRUM_WEIGHT, data), out / "population_flux.png")
    fig.save_figure(fig.dipole_bands_figure(ds, aniso), out / "population_dipole.png")
    fig.save_figure(fig.share_figure(ds), out / "population_share.png")
    if dom is not None:
        fig.save_figure(fig.dominant_sources_figure(dom, classes, paper.KNEE_SOURCE), out / "population_dominant.png")


import numpy as np  # noqa: E402

from crknee.cli import cli  # noqa: E402

cli.add_command(population)

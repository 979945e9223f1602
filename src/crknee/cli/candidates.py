"""``crknee candidates``: posterior of the knee source x X-ray binaries (Sec. 3, Fig. 10)."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import click
import numpy as np

from crknee.cli import cli
from crknee.errors import InputError


@cli.command("candidates")
@click.option(
    "--samples",
    type=click.Path(dir_okay=False, path_type=Path),
    help="ECSV posterior samples with columns l_deg and d_kpc (any posterior).",
)
@click.option(
    "--paper-posterior",
    is_flag=True,
    help="Use a synthetic posterior matching the paper's result (l = 337.4 +44.5/-34.7 deg, d = 2.64 +0.44/-0.45 kpc).",
)
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    help="crknee.data catalogue name, repeatable, in priority order (default: all four bundled).",
)
@click.option(
    "--convention",
    type=click.Choice(["2d", "1d"]),
    default="2d",
    show_default=True,
    help="HPD masses of '1 sigma'/'2 sigma': 2d = 39.3/86.5 %, 1d = 68.3/95.4 %.",
)
@click.option("--max-b", type=float, default=5.0, show_default=True, help="Latitude cut |b| < max-b [deg].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic paper posterior.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: candidates.ecsv, fig10_xrb_map.png/.pdf.",
)
def candidates(samples, paper_posterior, catalogs, convention, max_b, seed, out_dir):
    """Rank X-ray binaries by the posterior density of the knee source's position."""
    from crknee import catalogs as cat
    from crknee.io import atomic_write_table
    from crknee.plots.xrb_map import plot_xrb_map

    if (samples is None) == (not paper_posterior):
        raise InputError("give exactly one of --samples FILE and --paper-posterior")
    if paper_posterior:
        from crknee import paper

        table = cat.synthetic_posterior(paper.KNEE_SOURCE, rng=np.random.default_rng(seed))
        l, d = table["l_deg"], table["d_kpc"]
    else:
        l, d = cat.read_samples(samples)
    binaries = cat.load_binaries(catalogs or cat.DEFAULT_CATALOGS)
    region = cat.HPDRegion(l, d, convention=convention)
    result = cat.find_candidates(region, binaries, max_b=max_b * u.deg)
    result.meta["posterior"] = f"synthetic paper posterior (seed {seed:d})" if paper_posterior else str(samples)
    atomic_write_table(result, out_dir / "candidates.ecsv")
    plot_xrb_map(result, region, cat.microquasar_positions(binaries), out_dir / "fig10_xrb_map.png")
    meta = result.meta
    inside = result[cat.inside(result, region, 1)]
    click.echo(
        f"{len(result)} binaries with |b| < {max_b:g} deg ({meta['n_no_distance']} without distance, "
        f"{meta['n_outside_plane']} outside the plane); inside 1 sigma ({convention}): {len(inside)}"
    )
    for row in inside:
        click.echo(
            f"  {row['rank']:>3}  {row['name']:<22} d = {row['distance'].to_value(u.kpc):.2f} kpc"
            f"  P(1 sigma) = {row['p_in_1sigma']:.2f}"
        )
    click.echo(f"wrote {out_dir / 'candidates.ecsv'} and {out_dir / 'fig10_xrb_map.png'} (.pdf)")

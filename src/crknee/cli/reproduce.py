"""``crknee reproduce``: the whole analysis of the paper in one command."""
from __future__ import annotations

import click

from crknee.cli import cli


@cli.command("reproduce")
@click.option("--config", "config_file", default=None, type=click.Path(dir_okay=False),
              help="TOML config merged onto the paper's (default: the paper's config).")
@click.option("--out", default="results", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (figures/, tables/, chains/, report.html, summary.json, crknee.log, cache/).")
@click.option("--fast", is_flag=True, help="Coarser grids and a short chain (the [fast] section of the config).")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Processes for the MCMC (default: run.workers of the config).")
@click.option("--quiet", is_flag=True, help="No progress bars or console log (the log file is still written).")
def reproduce(config_file, out, fast, workers, quiet):
    """Run background, gamma, protons, local SNR, knee MCMC and candidates, with caching."""
    from crknee import config as _config
    from crknee.pipeline import run

    summary = run(_config.load(config_file), out, fast=fast, workers=workers, quiet=quiet)
    if not quiet:
        total = sum(summary["timings_s"].values())
        click.echo(f"done in {total:.1f} s: {out}/report.html, {out}/summary.json")

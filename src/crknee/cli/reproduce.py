"""``crknee reproduce``: the whole analysis of the paper in one command."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crknee.cli import cli


@cli.command("reproduce")
@click.option(
    "--config",
    "config_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="TOML config merged onto the paper's (default: the paper's config).",
)
@click.option(
    "--out",
    default="results",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output folder (figures/, tables/, chains/, report.html, summary.json, crknee.log, cache/).",
)
@click.option("--fast", is_flag=True, help="Coarser grids and a short chain (the [fast] section of the config).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="Processes for the knee-source fits, run side by side (default: run.workers of the config).",
)
@click.option("--quiet", is_flag=True, help="No progress bars or console log (the log file is still written).")
def reproduce(config_file, out, fast, workers, quiet):
    """Run background, gamma, protons, local SNR, knee MCMC and candidates, with caching."""
    from crknee import config as _config
    from crknee.pipeline import run

    config = _config.load(config_file)
    summary = run(config, out, fast=fast, workers=workers, quiet=quiet)
    if not quiet:
        _echo_fits(Path(out), list(config.section("fit_modes")))
        total = sum(summary["timings_s"].values())
        click.echo(f"done in {total:.1f} s: {out}/report.html, {out}/summary.json")


def _echo_fits(out: Path, modes: list) -> None:
    """The knee-source fits' summaries as ``crknee fit`` prints them (crknee.fit.driver.format_summary):
    the crknee default, then each [fit_modes] mode (e.g. the paper's)."""
    from crknee.fit.driver import format_summary
    from crknee.paper import knee_source_signed_l

    chains = out / "chains"
    folders = [chains / "knee_mcmc"] + [chains / f"mode_{m}" for m in modes]
    for folder in folders:
        path = folder / "fit_summary.json"
        if path.is_file():
            name = "crknee default" if folder.name == "knee_mcmc" else folder.name.removeprefix("mode_") + " mode"
            click.echo(f"knee-source fit, {name} ({folder}):")
            click.echo(format_summary(json.loads(path.read_text(encoding="utf-8")), knee_source_signed_l()))

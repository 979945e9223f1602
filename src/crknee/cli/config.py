"""``crknee config show NAME`` and ``crknee config validate FILE``."""

from __future__ import annotations

import click

from crknee import config as _config
from crknee.cli import cli


@cli.group("config")
def config_group():
    """Show or check analysis configurations (TOML)."""


@config_group.command("show")
@click.argument("name", default="paper")
def show(name):
    """Print a bundled config (default: the paper's), comments and sources included."""
    click.echo(_config.show(name), nl=False)


@config_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file):
    """Check FILE (merged onto the paper config); print its SHA-256 or one-line error."""
    cfg = _config.load(file)
    click.echo(f"{file}: valid (sha256 {cfg.digest()[:12]})")

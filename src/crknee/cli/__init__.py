"""The ``crknee`` command line: a thin layer over the library.

Each area owns one module here (``data``, ``propagate``, ``source``, ``gamma``, ``fit``,
``candidates``, ``plot``, ``reproduce``, ``config``) that defines click commands and
registers them on :data:`cli` through :func:`register`.  Any :class:`CrkneeError` (and
any missing file) becomes one line on stderr and exit status 2: no traceback.
"""
from __future__ import annotations

import importlib
import sys

import click

from crknee import __version__
from crknee.errors import CrkneeError

#: Sub-modules of crknee.cli that contribute commands, in help order.
COMMAND_MODULES = ("data", "propagate", "source", "gamma", "fit", "candidates", "plot", "config", "reproduce",
                   "population")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crknee")
def cli():
    """crknee: the origin of the cosmic-ray knee (Nie, Yue, Guo & Liu)."""


def plot_group() -> click.Group:
    """The ``crknee plot`` group, created once; figure modules add subcommands to it."""
    if "plot" not in cli.commands:

        @cli.group("plot")
        def plot():
            """Draw the paper's figures."""

    return cli.commands["plot"]


def _load_commands() -> None:
    for mod in COMMAND_MODULES:
        try:
            importlib.import_module(f"crknee.cli.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"crknee.cli.{mod}":
                raise


def main(argv=None) -> None:
    """Console entry point: run the CLI, turning crknee errors into one line."""
    _load_commands()
    try:
        cli.main(args=argv, prog_name="crknee", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except (CrkneeError, FileNotFoundError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)

"""The ``crknee`` command line: a thin layer over the library.

Each area owns one module here (``data``, ``propagate``, ``source``, ``gamma``, ``fit``,
``candidates``, ``plot``, ``reproduce``, ``config``) that defines click commands and
registers them on :data:`cli` through :func:`register`.  Any :class:`CrkneeError` and
any problem of the user's input or environment becomes one line on stderr and exit
status 2, no traceback (:func:`user_message`): a missing or unreadable file, a
read-only folder, a file where a folder is expected, a full disk, text that is not
UTF-8, a unit of the wrong dimension, memory exhausted.  Any other exception is a bug
in crknee and keeps its traceback; ``crknee --debug ...`` shows the full traceback of
every error.
"""
from __future__ import annotations

import errno
import importlib
import sys

import click
from astropy.units import UnitsError

from crknee import __version__
from crknee.errors import CrkneeError

#: Sub-modules of crknee.cli that contribute commands, in help order.
COMMAND_MODULES = ("data", "propagate", "source", "gamma", "fit", "candidates", "plot", "config", "reproduce",
                   "population")


#: ``--debug`` was given: errors keep their full traceback.
_DEBUG = {"on": False}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crknee")
@click.option("--debug", is_flag=True, help="Show the full Python traceback of any error.")
def cli(debug):
    """crknee: the origin of the cosmic-ray knee (Nie, Yue, Guo & Liu)."""
    _DEBUG["on"] = debug


#: What an OS error means for the user, by errno.
_OS_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOTDIR: "a file is in the way where a folder is needed",
    errno.EEXIST: "exists and is not a folder",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "file name too long",
}


def user_message(exc: BaseException) -> str | None:
    """The one-line message for an error of the user's input or environment, None for
    anything else (a crknee bug, which keeps its traceback)."""
    if isinstance(exc, CrkneeError):
        return str(exc)
    if isinstance(exc, OSError):
        reason = _OS_REASONS.get(exc.errno) or exc.strerror or str(exc).splitlines()[0]
        # a rename (atomic writes) fails on its target, filename2, not on the temporary file
        where = exc.filename2 if getattr(exc, "filename2", None) is not None else exc.filename
        return f"{where}: {reason}" if where is not None else reason
    if isinstance(exc, UnicodeDecodeError):
        return (f"text input is not UTF-8: byte 0x{exc.object[exc.start]:02x} at position {exc.start} "
                f"({exc.reason}); save the file as UTF-8")
    if isinstance(exc, UnitsError):
        return f"unit error: {exc}"
    if isinstance(exc, MemoryError):
        return ("out of memory: the requested grid or sample does not fit (lower n_modes, points_per_decade, "
                "fixed_points_per_decade, --n or the number of walkers/steps)")
    return None


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


def _warning_line(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def main(argv=None) -> None:
    """Console entry point: run the CLI, turning crknee errors into one line (and Python
    warnings, e.g. a damaged chain set aside, into ``warning: ...`` lines)."""
    import warnings

    warnings.formatwarning = _warning_line
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
    except (CrkneeError, OSError, UnicodeDecodeError, UnitsError, MemoryError) as exc:
        message = user_message(exc)
        if _DEBUG["on"] or message is None:
            raise
        click.echo(f"error: {message}", err=True)
        sys.exit(2)

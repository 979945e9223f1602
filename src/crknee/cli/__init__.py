"""The ``crknee`` command line: a thin layer over the library.

Each area owns one module here (``data``, ``propagate``, ``source``, ``gamma``, ``fit``,
``candidates``, ``reproduce``, ``config``, ``population``) that defines click commands on
:data:`cli` (or on :func:`plot_group`).  The groups are lazy (:class:`LazyGroup`): a
command's module is imported only when that command runs or shows its help, so
``crknee --help`` imports neither numpy nor astropy.  :data:`COMMANDS` and
:data:`PLOT_COMMANDS` name each command's module and one-line summary (tests check that
the summaries match the commands).  The command line is the application: it selects
matplotlib's non-interactive Agg backend (:func:`main`); the library never does.

Any :class:`CrkneeError` and any problem of the user's input or environment becomes one
line on stderr and exit status 2, no traceback (:func:`user_message`): a missing or
unreadable file, a read-only folder, a file where a folder is expected, a full disk, text
that is not UTF-8, a unit of the wrong dimension, memory exhausted.  Any other exception
is a bug in crknee and keeps its traceback; ``crknee --debug ...`` shows the full
traceback of every error.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys

import click

from crknee.errors import CrkneeError

#: Top-level commands: name -> (module of crknee.cli defining it, one-line summary shown by
#: ``crknee --help`` without importing the module).
COMMANDS = {
    "candidates": ("candidates", "Rank X-ray binaries by the posterior density of the knee source's position."),
    "config": ("config", "Show or check analysis configurations (TOML)."),
    "data": ("data", "Observational datasets bundled with crknee, and your own."),
    "fit": ("fit", "Bayesian fits: the knee source (`knee`) and the background propagation (`propagation`)."),
    "gamma": ("gamma", "Hadronic gamma rays of the LHAASO microquasars (paper Sec."),
    "population": (
        "population",
        "Realisations of the source populations: p, He, all-particle fluxes, dipole, "
        "the brightest source's share; how often one source owns the knee "
        "(docs/population.md).",
    ),
    "propagate": ("propagate", "Background propagation of Galactic cosmic rays (paper eq."),
    "reproduce": ("reproduce", "Run background, gamma, protons, local SNR, knee MCMC and candidates, with caching."),
    "source": ("source", "Proton flux at Earth, |delta|, equatorial amplitude and RA phase of one source."),
}
#: Subcommands of ``crknee plot``, contributed by the area modules: name -> (module, summary).
PLOT_COMMANDS = {
    "anisotropy": (
        "source",
        "Anisotropy phase and amplitude (paper Figs 4 and 5) from 100 GeV to 10 EeV: every "
        "bundled experiment, background, sources and total, for isotropic diffusion beside the "
        "field-aligned dipole.",
    ),
    "bc": ("propagate", "Paper Fig."),
    "fit": ("fit", "Figs."),
    "gamma": ("gamma", "Paper figure 2: the four microquasars' SEDs, posterior bands and data."),
    "protons": ("gamma", "Paper figure 3: protons at Earth of each microquasar (dashed) against the data."),
    "ratio-maps": (
        "gamma",
        "Issue 12: protons at Earth / LHAASO at 1 PeV over (n_H a^2, chi) at three ages, the "
        "SED refitted at every point; prints the default value and the plausible range.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose commands live in modules imported on first use.

    ``lazy``: name -> (module of crknee.cli, summary).  Importing the module registers the
    command on this group (its ``@cli.command`` / ``@plot_group().command`` decorators);
    the group's help lists the summaries without importing anything.
    """

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx):
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            importlib.import_module(f"crknee.cli.{self.lazy[name][0]}")
        return self.commands.get(name)

    def format_commands(self, ctx, formatter):
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                if self.commands[name].hidden:
                    continue
                summary = self.commands[name].get_short_help_str(limit)
            else:
                summary = click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit)
            rows.append((name, summary))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


#: ``--debug`` was given: errors keep their full traceback.
_DEBUG = {"on": False}


def _show_version(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    from crknee import __version__

    click.echo(f"crknee, version {__version__}")
    ctx.exit()


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
@click.option("--debug", is_flag=True, help="Show the full Python traceback of any error.")
def cli(debug):
    """crknee: the origin of the cosmic-ray knee (Nie, Yue, Guo & Liu)."""
    _DEBUG["on"] = debug


@cli.group("plot", cls=LazyGroup, lazy=PLOT_COMMANDS)
def _plot():
    """Draw the paper's figures."""


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


def _units_error() -> type:
    """astropy's UnitsError if astropy is loaded (only a command that imported it can raise it)."""
    units = sys.modules.get("astropy.units")
    return units.UnitsError if units is not None else ()


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
        return (
            f"text input is not UTF-8: byte 0x{exc.object[exc.start]:02x} at position {exc.start} "
            f"({exc.reason}); save the file as UTF-8"
        )
    if isinstance(exc, _units_error()):
        return f"unit error: {exc}"
    if isinstance(exc, MemoryError):
        return (
            "out of memory: the requested grid or sample does not fit (lower n_modes, points_per_decade, "
            "fixed_points_per_decade, --n or the number of walkers/steps)"
        )
    return None


def plot_group() -> click.Group:
    """The ``crknee plot`` group; figure modules add subcommands to it (listed in :data:`PLOT_COMMANDS`)."""
    return cli.commands["plot"]


def _warning_line(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


def main(argv=None) -> None:
    """Console entry point: run the CLI, turning crknee errors into one line (and Python
    warnings, e.g. a damaged chain set aside, into ``warning: ...`` lines)."""
    import warnings

    warnings.formatwarning = _warning_line
    if "MPLBACKEND" not in os.environ:  # the application draws to files, never to a window
        os.environ["MPLBACKEND"] = "Agg"
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
    except Exception as exc:
        message = user_message(exc)
        if _DEBUG["on"] or message is None:
            raise
        click.echo(f"error: {message}", err=True)
        sys.exit(2)

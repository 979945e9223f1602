"""The lazy command line (issue 14, item 6): ``crknee --help`` lists each command's summary
without importing it; the listed summaries and modules are those of the real commands."""

from __future__ import annotations

import importlib

import click
import pytest

from crknee.cli import COMMANDS, PLOT_COMMANDS, cli, main


def _load(group: click.Group, lazy: dict) -> dict:
    ctx = click.Context(group)
    return {name: group.get_command(ctx, name) for name in lazy}


@pytest.mark.parametrize("group_name", ["crknee", "plot"])
def test_listed_summaries_are_those_of_the_commands(group_name):
    lazy = COMMANDS if group_name == "crknee" else PLOT_COMMANDS
    group = cli if group_name == "crknee" else cli.commands["plot"]
    for name, command in _load(group, lazy).items():
        module, summary = lazy[name]
        assert command is not None, f"crknee.cli.{module} defines no command {name!r}"
        assert command.callback.__module__ == f"crknee.cli.{module}"
        assert click.Command(name, help=summary).get_short_help_str(1000) == command.get_short_help_str(1000), name


def test_every_command_module_is_listed():
    """A command added to a module must be listed too, else ``crknee --help`` hides it."""
    for module in {m for m, _ in (*COMMANDS.values(), *PLOT_COMMANDS.values())}:
        importlib.import_module(f"crknee.cli.{module}")
    assert set(cli.commands) == set(COMMANDS) | {"plot"}
    assert set(cli.commands["plot"].commands) == set(PLOT_COMMANDS)


def test_help_lists_every_command(capsys):
    main(["--help"])
    out = capsys.readouterr().out
    for name in (*COMMANDS, "plot"):
        assert f"\n  {name} " in out
    main(["plot", "--help"])
    out = capsys.readouterr().out
    assert all(f"\n  {name} " in out for name in PLOT_COMMANDS)


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2 and "No such command 'no-such-command'" in capsys.readouterr().err

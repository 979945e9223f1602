"""``crknee fit`` (the knee-source MCMC) and ``crknee plot fit`` (its figures)."""
from __future__ import annotations

from pathlib import Path

import click

from crknee.cli import cli, plot_group


def _fixed(fixed, out):
    from crknee.errors import ConfigError
    from crknee.fit.driver import FIXED_COMPONENTS_FILE
    from crknee.fit.model import FixedComponents

    path = Path(fixed) if fixed else Path(out) / FIXED_COMPONENTS_FILE
    if not path.is_file():
        raise ConfigError(f"fixed components {path} not found: give --fixed FILE (written by the pipeline's "
                          f"background + local-SNR step, crknee.fit.model.FixedComponents.save)")
    return FixedComponents.load(path)


@cli.command("fit")
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TOML config merged onto the paper's, as for `crknee reproduce` (default: the paper's); "
                   "its [fit] section is used.")
@click.option("--mock", is_flag=True, help="Fit data made by the model at the parameters' values (plus [[fit.mock.extra]]).")
@click.option("--fixed", type=click.Path(dir_okay=False), default=None,
              help="HDF5 file of the fixed components (default: OUT/fixed_components.h5).")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="Output folder (chain, tables, figures).")
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def fit_command(config, mock, fixed, out, no_plots, quiet):
    """Fit the knee source (l, b, d, t, R_cut, beta, W) by MCMC; rerun to resume."""
    from crknee.config import load
    from crknee.fit.driver import fit, format_summary
    from crknee.lock import output_lock

    section = load(config).section("fit")  # merged onto the paper config and validated like every command's
    with output_lock(out):
        summary = fit(section, _fixed(fixed, out), out, mock=mock, progress=not quiet, plots=not no_plots)
    click.echo(format_summary(summary))


@plot_group().command("fit")
@click.option("--run", "run_dir", type=click.Path(file_okay=False, exists=True), required=True,
              help="Output folder of `crknee fit`.")
@click.option("--fixed", type=click.Path(dir_okay=False), default=None,
              help="HDF5 file of the fixed components (default: RUN/fixed_components.h5).")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None, help="Figure folder (default RUN/figures).")
def plot_fit(run_dir, fixed, out):
    """Figs. 6-9 and the fitted anisotropy from a finished `crknee fit` folder."""
    from crknee.fit.driver import fit_pieces, load_run, run_samples
    from crknee.fit.schema import problem_from_config
    from crknee.plots.fit import draw_all

    section, mock = load_run(run_dir)
    problem = problem_from_config(section, _fixed(fixed, run_dir))
    pieces = fit_pieces(problem, mock)
    samples, logp = run_samples(run_dir, problem)
    for path in draw_all(problem.model, problem.parameters, pieces, samples, logp,
                         Path(out or Path(run_dir) / "figures")):
        click.echo(str(path))

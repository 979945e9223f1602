"""``crknee fit knee`` (the knee-source MCMC), ``crknee fit propagation`` (the Bayesian
propagation fit to AMS-02 nuclei, crknee.fit.propagation) and ``crknee plot fit``."""

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
        raise ConfigError(
            f"fixed components {path} not found: give --fixed FILE (written by the pipeline's "
            f"background + local-SNR step, crknee.fit.model.FixedComponents.save)"
        )
    return FixedComponents.load(path)


def _draw(section, fixed_components, run_dir, mock, folder):
    """The figures of a finished knee-source fit (crknee.plots.fit.draw_all): the fit
    returns its result, the command line draws (issue 14)."""
    from crknee.fit.driver import fit_pieces, run_samples
    from crknee.fit.schema import problem_from_config
    from crknee.plots.fit import draw_all

    problem = problem_from_config(section, fixed_components)
    samples, logp = run_samples(run_dir, problem)
    return draw_all(problem.model, problem.parameters, fit_pieces(problem, mock), samples, logp, Path(folder))


@cli.group("fit")
def fit_group():
    """Bayesian fits: the knee source (`knee`) and the background propagation (`propagation`)."""


@fit_group.command("knee")
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML config merged onto the paper's, as for `crknee reproduce` (default: the paper's); "
    "its [fit] section is used.",
)
@click.option(
    "--mock", is_flag=True, help="Fit data made by the model at the parameters' values (plus [[fit.mock.extra]])."
)
@click.option(
    "--fixed",
    type=click.Path(dir_okay=False),
    default=None,
    help="HDF5 file of the fixed components (default: OUT/fixed_components.h5).",
)
@click.option(
    "--out", "out", type=click.Path(file_okay=False), required=True, help="Output folder (chain, tables, figures)."
)
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def fit_command(config, mock, fixed, out, no_plots, quiet):
    """Fit the knee source (l, b, d, t, R_cut, beta, W) by MCMC; rerun to resume."""
    from crknee.config import load
    from crknee.fit.driver import fit, format_summary
    from crknee.lock import output_lock
    from crknee.paper import knee_source_signed_l

    section = load(config).section("fit")  # merged onto the paper config and validated like every command's
    with output_lock(out):
        fixed_components = _fixed(fixed, out)
        summary = fit(section, fixed_components, out, mock=mock, progress=not quiet)
        if not no_plots:
            _draw(section, fixed_components, out, mock, Path(out) / "figures")
    click.echo(format_summary(summary, knee_source_signed_l()))


@fit_group.command("propagation")
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML file with a [propagation_fit] table merged onto the defaults (crknee/configs/propagation_fit.toml).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    required=True,
    help="Output folder (chain, posterior.ecsv, propagation_posterior.toml, report.md, figures).",
)
@click.option("--scheduler", default=None, help="dask scheduler address: evaluate the posterior on that cluster.")
@click.option("--no-plots", is_flag=True, help="Skip the figures.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def fit_propagation_command(config, out, scheduler, no_plots, quiet):
    """Fit transport, injection, abundances, phi and cross-section nuisances to AMS-02 nuclei; rerun to resume."""
    from crknee.fit.propagation.run import fit
    from crknee.lock import output_lock

    with output_lock(out):
        summary, figures = fit(config, out, scheduler=scheduler, progress=not quiet)
        if not no_plots:
            from crknee.plots.propagation_fit import draw_all

            draw_all(figures, Path(out) / "figures")
    rec = summary["sampler"]
    click.echo(
        f"{rec['method']}: {rec.get('n_evaluations')} evaluations in {rec.get('wall_s', 0):.0f} s, "
        f"converged: {rec.get('converged')}; chi2 = {summary['chi2_total']:.1f} for {summary['n_points']} "
        f"points at the posterior median"
    )
    for name, p in summary["posterior"].items():
        click.echo(f"  {name} = {p['median']:.4g} -{p['minus']:.2g} +{p['plus']:.2g} {p['unit']}")
    click.echo(f"written to {out}")


@plot_group().command("fit")
@click.option(
    "--run",
    "run_dir",
    type=click.Path(file_okay=False, exists=True),
    required=True,
    help="Output folder of `crknee fit knee`.",
)
@click.option(
    "--fixed",
    type=click.Path(dir_okay=False),
    default=None,
    help="HDF5 file of the fixed components (default: RUN/fixed_components.h5).",
)
@click.option(
    "--out", "out", type=click.Path(file_okay=False), default=None, help="Figure folder (default RUN/figures)."
)
def plot_fit(run_dir, fixed, out):
    """Figs. 6-9 and the fitted anisotropy from a finished `crknee fit knee` folder."""
    from crknee.fit.driver import load_run

    section, mock = load_run(run_dir)
    for path in _draw(section, _fixed(fixed, run_dir), run_dir, mock, Path(out or Path(run_dir) / "figures")):
        click.echo(str(path))

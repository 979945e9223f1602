"""``crknee reproduce``: the paper's analysis as cached steps, a report and a summary.

:func:`run` loads nothing itself: give it a :class:`crknee.config.Config` (``crknee.config.load``).
The steps (:data:`crknee.pipeline.steps.STEPS`, in order) are

    background -> gamma -> local_snr -> protons -> knee_mcmc -> candidates

each calling the public API of one physics module (crknee.propagation, crknee.gamma,
crknee.sources, crknee.fit, crknee.catalogs); the runner (:mod:`crknee.pipeline.engine`)
caches them by a hash of their inputs.  Outputs in the output folder DIR::

    figures/figNN_*.png|pdf   tables/*.ecsv   chains/*.h5   report.html   summary.json
    crknee.log                cache/
"""

from __future__ import annotations

import time
from pathlib import Path

from crknee import __version__
from crknee.config import Config
from crknee.errors import DataError
from crknee.io import atomic_write_json
from crknee.lock import output_lock
from crknee.pipeline.engine import MissingModuleError, Step, StepResult, require_modules, run_steps
from crknee.pipeline.steps import STEPS, check_config
from crknee.pipeline.summary import SUMMARY_SCHEMA, build_summary, validate_summary
from crknee.report import write_report

__all__ = [
    "STEPS",
    "SUMMARY_SCHEMA",
    "MissingModuleError",
    "Step",
    "StepResult",
    "check_bundled_data",
    "check_config",
    "run",
    "run_steps",
    "validate_summary",
]


def run(
    config: Config, out="results", *, fast: bool = False, workers: int | None = None, quiet: bool = False, steps=None
) -> dict:
    """Run the pipeline into ``out`` and return the (validated) summary.json dictionary.

    ``fast`` applies the config's ``[fast]`` overrides; ``workers`` defaults to
    ``run.workers``; ``quiet`` silences progress bars and the console log (the log file
    ``out/crknee.log`` is always written).  Unchanged steps are taken from ``out/cache``.
    The bundled data are checked against their manifest first (:func:`check_bundled_data`)
    and the output folder is locked for the whole run (:mod:`crknee.lock`).
    """
    out = Path(out)
    steps = steps or STEPS
    require_modules(steps)
    check_bundled_data()
    run_config = config.for_run(fast)
    check_config(run_config)
    workers = workers or run_config["run"]["workers"]
    with output_lock(out):
        done = run_steps(steps, run_config, out, fast=fast, workers=workers, quiet=quiet)
        t0 = time.perf_counter()
        summary = build_summary(__version__, run_config, fast, done.summaries, done.timings_s)
        validate_summary(summary)
        write_report(summary, done.summaries, out, done.statuses, done.computed_s)
        summary["timings_s"]["report"] = round(time.perf_counter() - t0, 3)
        atomic_write_json(out / "summary.json", summary)
    return summary


def check_bundled_data() -> None:
    """Raise :class:`~crknee.errors.DataError` naming the first bundled file that differs
    from ``MANIFEST.sha256`` (damaged installation or an edited file): the paper's results
    are only reproduced from the data they were published with."""
    from crknee.data import verify_manifest

    problems = verify_manifest()
    if problems:
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise DataError(
            f"bundled data differ from their manifest: {problems[0]}{more} "
            f"(`crknee data verify`; reinstall crknee to restore them)"
        )

"""Several knee-source fits of one pipeline step, side by side on the run's workers.

The ``knee_mcmc`` step runs the default fit, the evidence models that differ from it
(:mod:`crknee.fit.evidence`) and the ``[fit_modes]`` (the paper's mode): independent
:func:`crknee.fit.fit` calls, each into its own ``crknee fit`` folder with its own
checkpoint (``nested.ckpt`` or ``chain.h5``).  With ``workers > 1`` they run in a pool of
that many spawned processes (each fit serial inside), longest first; with one fit, or one
worker, in this process (a single fit then gets the workers as its likelihood pool).

Interruptions: SIGTERM/SIGINT received while the pool runs are forwarded to the worker
processes this module started (by pid); each one saves its checkpoint at the end of its
current step or iteration and stops (:class:`crknee.fit.sampler.Interrupted`), which is
raised here: a rerun resumes every fit from its checkpoint.  When one fit fails, no other
is started; the running ones finish before the error is raised.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

#: Rough cost of a fit, to start the longest first (emcee chains before nested runs).
_COST = {"emcee": 2.0, "dynesty": 1.0}


@dataclass(frozen=True)
class FitRun:
    """One fit: a name, its validated ``[fit]`` section and its output folder."""

    name: str
    section: dict
    folder: Path


def _fit(section, fixed, folder, progress):
    from crknee.fit import fit

    return fit(section, fixed, folder, progress=progress)


def _with_pool(section: dict, workers: int) -> dict:
    sampler = {**section.get("sampler", {}), "pool": "process", "workers": workers}
    return {**section, "sampler": sampler}


def run_fits(runs: list[FitRun], fixed, workers: int, progress: bool, log) -> dict:
    """Run (or resume) every fit of ``runs`` on ``fixed``; return {name: fit summary}."""
    if len(runs) == 1 or workers <= 1:
        out = {}
        for r in runs:
            section = _with_pool(r.section, workers) if len(runs) == 1 and workers > 1 else r.section
            log.info("knee_mcmc: fit %s into %s", r.name, r.folder)
            out[r.name] = _fit(section, fixed, r.folder, progress)
        return out
    order = sorted(runs, key=lambda r: -_COST.get(r.section.get("sampler", {}).get("method", "emcee"), 1.0))
    n = min(workers, len(runs))
    # "spawn": fresh interpreters (a fork of this multi-threaded process -- progress bars,
    # the pool's own threads -- can copy a held lock into a child, which then never starts).
    # At most n fits are submitted at a time, so that no task waits in the pool's pipe when
    # one fails (a pending write to a stopped worker would hold the interpreter's exit).
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as pool:
        log.info("knee_mcmc: %d fits on %d processes: %s", len(runs), n, ", ".join(r.name for r in order))
        pending, running, done = list(order), {}, {}
        with _forwarded_signals(pool):
            try:
                while pending or running:
                    while pending and len(running) < n:
                        r = pending.pop(0)
                        running[pool.submit(_fit, r.section, fixed, r.folder, False)] = r.name
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for f in finished:
                        done[running.pop(f)] = f.result()
            except BaseException:
                # one fit failed (or was interrupted, the signal already forwarded): start
                # no other; the running ones finish (or stop at their checkpoint) before the
                # pool closes; then the first error is raised
                pending.clear()
                raise
        return {r.name: done[r.name] for r in runs}


class _forwarded_signals:
    """While inside: SIGTERM/SIGINT are sent on to the pool's worker processes (by pid)."""

    def __init__(self, pool):
        self.pool, self.old = pool, {}

    def _forward(self, signum, _frame):
        for pid in list(getattr(self.pool, "_processes", {}) or {}):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def __enter__(self):
        for s in (signal.SIGTERM, signal.SIGINT):
            self.old[s] = signal.signal(s, self._forward)
        return self

    def __exit__(self, *exc):
        for s, h in self.old.items():
            signal.signal(s, h)

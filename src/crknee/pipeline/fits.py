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
raised here: a rerun resumes every fit from its checkpoint.  When one fit fails, the
fits not yet started are cancelled and the running ones stopped the same way.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
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

    return fit(section, fixed, folder, progress=progress, plots=False)


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
    # "spawn": fresh interpreters (a fork of this multi-threaded process -- progress bars,
    # the pool's own threads -- can copy a held lock into a child, which then never starts)
    with ProcessPoolExecutor(max_workers=min(workers, len(runs)), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {r.name: pool.submit(_fit, r.section, fixed, r.folder, False) for r in order}
        log.info("knee_mcmc: %d fits on %d processes: %s", len(runs), min(workers, len(runs)), ", ".join(futures))
        with _forwarded_signals(pool) as forward:
            try:
                return {name: f.result() for name, f in futures.items()}
            except BaseException:
                # one fit failed (or was interrupted): cancel the fits not started, stop the
                # running ones at their next checkpoint, then raise the first error
                for f in futures.values():
                    f.cancel()
                forward(signal.SIGTERM, None)
                raise


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
        return self._forward

    def __exit__(self, *exc):
        for s, h in self.old.items():
            signal.signal(s, h)

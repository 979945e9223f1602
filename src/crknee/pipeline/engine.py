"""The step runner behind ``crknee reproduce``: cached, logged, timed, atomic.

A :class:`Step` names the config sections it reads, the upstream steps it needs and the
crknee modules whose code its result depends on.  Its cache key is the SHA-256 of

    step name + those config sections + the source code of those modules (and of the
    step functions) + crknee's version + the cache keys of the upstream steps and the
    SHA-256 of the states they handed on + the SHA-256 of every data file crknee can
    read (the bundled tree and the user's added datasets, :func:`data_digest`),

so changing one parameter reruns exactly the steps that read it and everything
downstream of them.  A step's record (``DIR/cache/<step>.json``: key, summary, SHA-256 of
each artifact and of its state) and its state (``DIR/cache/<step>.state.npz``, what
downstream steps consume; :mod:`crknee.pipeline.states`, no pickle) are written
atomically after the step succeeds.  A step is reused only when its key matches the
record and the state and every artifact are there with the recorded SHA-256; anything
else (a record that is not valid JSON, a truncated or altered state, a changed output)
is reported in one log line, e.g.
``cache/background.state.npz is damaged (checksum mismatch); recomputing``, and the
step is recomputed from scratch.  Its downstream steps are reused only if the recomputed
state is byte-identical to the one they consumed (it is part of their key).  A run killed
in the middle of a step leaves no record for it, so the next run redoes that step (the
MCMC step resumes its HDF5 chain instead of restarting it, after checking it).

One run at a time per output folder: :func:`run_steps` holds ``DIR/.crknee.lock``
(:mod:`crknee.lock`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from crknee import __version__
from crknee.config import Config
from crknee.errors import CrkneeError
from crknee.io import atomic_write_json, sha256_cached, sha256_file
from crknee.lock import output_lock
from crknee.pipeline.states import read_state, write_state

LOGGER_NAME = "crknee.pipeline"
LOG_FILE = "crknee.log"


class MissingModuleError(CrkneeError):
    """A step needs a crknee module that is not installed."""

    def __init__(self, step: str, module: str):
        self.step = step
        self.module = module
        super().__init__(f"step {step!r} needs module {module}, which is not installed")


@dataclass
class StepResult:
    """What a step returns.

    ``summary``: JSON-able numbers for summary.json and the report; ``artifacts``: the
    files it wrote (under the output folder); ``state``: what downstream steps read, a
    tree of plain values and arrays (:mod:`crknee.pipeline.states`) or an object that the
    step's ``encode`` turns into one.
    """

    summary: dict
    artifacts: list = field(default_factory=list)
    state: object = None


@dataclass(frozen=True)
class Step:
    """One pipeline step: ``func(context) -> StepResult``.

    ``encode(state) -> tree`` and ``decode(tree, config) -> state`` turn its state into
    plain values and back (identity when None).
    """

    name: str
    func: Callable
    sections: tuple = ()
    needs: tuple = ()
    modules: tuple = ()
    encode: Callable | None = None
    decode: Callable | None = None


def state_file(cache: Path, step: str) -> Path:
    """Where a step's state is stored."""
    return cache / f"{step}.state.npz"


@dataclass
class Context:
    """What a step function sees: the run's config, folders and upstream states."""

    config: Config
    out: Path
    workers: int
    progress: bool
    log: logging.Logger
    key: str = ""
    _states: dict = field(default_factory=dict)
    _cache: Path | None = None
    _steps: dict = field(default_factory=dict)
    _records: dict = field(default_factory=dict)

    def state(self, step: str):
        """The state of an upstream step (from this run, or from the cache, whose SHA-256
        was checked against its record when the step was found cached)."""
        if step not in self._states:
            self._states[step] = _decode(self._steps[step], read_state(state_file(self._cache, step)), self.config)
        return self._states[step]

    def record(self, step: str) -> dict | None:
        """The readable record of ``step`` found at the start of this step (None if none)."""
        return self._records.get(step)

    def path(self, kind: str, name: str) -> Path:
        """``DIR/<kind>/<name>`` with its folder created (kind: figures, tables, chains)."""
        p = self.out / kind / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


#: Modules whose code shapes every cached result: the runner and the state format.
STORAGE_MODULES = ("crknee.pipeline.engine", "crknee.pipeline.states")


def code_digest(step: Step) -> str:
    """SHA-256 of the source of the modules a step depends on (and of its own function,
    the runner and the state format).

    Raises :class:`MissingModuleError` when one of them is not installed.
    """
    h = hashlib.sha256(__version__.encode())
    for mod in (*step.modules, step.func.__module__, *STORAGE_MODULES):
        try:
            spec = importlib.util.find_spec(mod)
        except ModuleNotFoundError:  # its parent package is missing
            spec = None
        if spec is None or spec.origin is None:
            raise MissingModuleError(step.name, mod)
        origin = Path(spec.origin)
        files = sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]
        for f in files:
            h.update(str(f.relative_to(origin.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def require_modules(steps) -> None:
    """Raise :class:`MissingModuleError` for the first step whose modules are not installed."""
    for s in steps:
        code_digest(s)


def check_order(steps) -> None:
    """Every step's upstream steps come before it and names are unique."""
    seen = set()
    for s in steps:
        missing = [n for n in s.needs if n not in seen]
        if missing:
            raise CrkneeError(f"step {s.name!r} needs {missing[0]!r}, which does not run before it")
        if s.name in seen:
            raise CrkneeError(f"step {s.name!r} appears twice")
        seen.add(s.name)


def data_files() -> list[tuple[str, Path]]:
    """Every data file crknee can read: the bundled tree and the user's added datasets
    (``crknee data add``), as (label, path) pairs in a fixed order."""
    from crknee.data import user_dir
    from crknee.data.store import BUNDLED, bundled_files

    files = [(f"bundled/{p.relative_to(BUNDLED).as_posix()}", p) for p in bundled_files()]
    root = user_dir()
    if root.is_dir():
        files += [(f"user/{p.relative_to(root).as_posix()}", p) for p in sorted(root.rglob("*")) if p.is_file()]
    return files


def data_digest() -> str:
    """SHA-256 over the SHA-256 of every data file (:func:`data_files`): changing, adding
    or removing a dataset or a solver table changes every step's key.  The file hashes
    are memoised on (path, inode, size, mtime) (:func:`crknee.io.sha256_cached`)."""
    h = hashlib.sha256()
    for label, path in data_files():
        h.update(label.encode())
        h.update(sha256_cached(path).encode())
    return h.hexdigest()


def step_key(step: Step, config: Config, upstream: dict, data: str = "") -> str:
    """The cache key of ``step`` (module docstring); ``upstream`` maps each needed step
    to ``(its key, SHA-256 of its state)``."""
    blob = json.dumps(
        {
            "step": step.name,
            "config": config.digest(*step.sections) if step.sections else "",
            "code": code_digest(step),
            "upstream": {n: list(upstream[n]) for n in step.needs},
            "data": data,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class Damaged(NamedTuple):
    """Why a cached step cannot be trusted: the file (relative to DIR) and the reason."""

    path: str
    reason: str

    def __str__(self):
        return f"{self.path} is damaged ({self.reason}); recomputing"


def _read_record(cache: Path, step: Step):
    """The step's record, None if there is none, or :class:`Damaged` if it is unreadable."""
    path = cache / f"{step.name}.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_bytes())
        ok = (
            isinstance(record, dict)
            and isinstance(record.get("artifacts"), dict)
            and isinstance(record.get("state"), str)
            and "summary" in record
            and "key" in record
        )
    except (ValueError, OSError) as exc:
        return Damaged(f"cache/{path.name}", f"unreadable: {type(exc).__name__}")
    return record if ok else Damaged(f"cache/{path.name}", "not a step record")


def _check_cached(cache: Path, out: Path, step: Step, key: str, record):
    """None when ``record`` (of the same key) can be reused, else :class:`Damaged`."""
    state = state_file(cache, step.name)
    rel = f"cache/{state.name}"
    if not state.is_file():
        return Damaged(rel, "missing")
    if sha256_file(state) != record["state"]:
        return Damaged(rel, "checksum mismatch")
    for name, digest in record["artifacts"].items():
        p = out / name
        if not p.is_file():
            return Damaged(name, "missing")
        if sha256_file(p) != digest:
            return Damaged(name, "checksum mismatch")
    return None


def _decode(step: Step, tree, config: Config):
    return step.decode(tree, config) if step.decode else tree


def setup_logging(out: Path, quiet: bool) -> logging.Logger:
    """Log to ``DIR/crknee.log`` (appended: one block per run) and, unless quiet, stderr.

    Python warnings of the physics modules (e.g. a chain that did not converge) and the
    messages of libraries that log to the root logger go to the same places.
    """
    log = logging.getLogger(LOGGER_NAME)
    fh = logging.FileHandler(out / LOG_FILE)
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handlers = [fh] if quiet else [fh, _TqdmHandler()]
    logging.captureWarnings(True)
    for logger in (log, logging.getLogger("py.warnings"), logging.getLogger()):
        for h in list(logger.handlers):
            if isinstance(h, (logging.FileHandler, _TqdmHandler)):
                logger.removeHandler(h)
                h.close()
        for h in handlers:
            logger.addHandler(h)
    log.setLevel(logging.INFO)
    log.propagate = False
    logging.getLogger("py.warnings").propagate = False
    return log


class _TqdmHandler(logging.Handler):
    """Console handler that does not break tqdm's progress bars."""

    def emit(self, record):
        tqdm.write(self.format(record))


class StepsRun(NamedTuple):
    """What :func:`run_steps` returns, per step name: ``summaries`` (JSON), ``timings_s``
    (wall seconds this run spent), ``statuses`` ("cached" or "computed") and
    ``computed_s`` (wall seconds of the run that computed the result)."""

    summaries: dict
    timings_s: dict
    statuses: dict
    computed_s: dict


def run_steps(steps, config: Config, out, *, fast: bool, workers: int = 1, quiet: bool = False) -> StepsRun:
    """Run ``steps`` in order with caching (module docstring), holding the folder's lock;
    a missing module is reported before any work."""
    out = Path(out)
    check_order(steps)
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    with output_lock(out) as stale:
        log = setup_logging(out, quiet)
        return _run_locked(steps, config, out, cache, log, stale, fast=fast, workers=workers, quiet=quiet)


def _run_locked(steps, config, out, cache, log, stale, *, fast, workers, quiet) -> StepsRun:
    log.info(
        "run start: crknee %s, config %s, fast=%s, workers=%d, out=%s", __version__, config.source, fast, workers, out
    )
    if stale:
        log.warning("%s", stale)
    try:
        require_modules(steps)
    except MissingModuleError as exc:
        log.error("%s", exc)
        raise
    ctx = Context(config, out, workers, not quiet, log, _cache=cache, _steps={s.name: s for s in steps})
    data = data_digest()
    upstream, summaries, timings, statuses, computed = {}, {}, {}, {}, {}
    bar = tqdm(steps, desc="crknee reproduce", unit="step", disable=quiet, leave=False)
    for step in bar:
        bar.set_postfix_str(step.name)
        t0 = time.perf_counter()
        key = step_key(step, config, upstream, data)
        record = _read_record(cache, step)
        problem = record if isinstance(record, Damaged) else None
        if problem is None and record is not None and record["key"] == key:
            problem = _check_cached(cache, out, step, key, record)
            if problem is None:
                upstream[step.name] = (key, record["state"])
                summaries[step.name] = record["summary"]
                statuses[step.name] = "cached"
                timings[step.name] = round(time.perf_counter() - t0, 3)
                computed[step.name] = record["seconds"]
                log.info("step %s: cached (key %s, computed in %.2f s)", step.name, key[:12], record["seconds"])
                continue
        if problem is not None:
            log.warning("step %s: %s", step.name, problem)
        ctx._records[step.name] = None if isinstance(record, Damaged) else record
        log.info("step %s: computing (key %s)", step.name, key[:12])
        ctx.key = key
        ctx._states.pop(step.name, None)
        try:
            result = step.func(ctx)
        except BaseException as exc:
            log.error(
                "step %s: failed after %.2f s: %s: %s", step.name, time.perf_counter() - t0, type(exc).__name__, exc
            )
            raise
        seconds = time.perf_counter() - t0
        artifacts = {}
        for p in result.artifacts:
            p = Path(p)
            artifacts[p.relative_to(out).as_posix()] = sha256_file(p)
        tree = step.encode(result.state) if step.encode else result.state
        write_state(state_file(cache, step.name), tree)
        (cache / f"{step.name}.pkl").unlink(missing_ok=True)  # crknee < 0.2 pickled states: never read
        state_sha = sha256_file(state_file(cache, step.name))
        # downstream steps see the decoded state, exactly as a later run reads it from the cache
        ctx._states[step.name] = _decode(step, tree, config)
        atomic_write_json(
            cache / f"{step.name}.json",
            {
                "key": key,
                "summary": result.summary,
                "artifacts": artifacts,
                "state": state_sha,
                "seconds": round(seconds, 3),
            },
        )
        upstream[step.name] = (key, state_sha)
        summaries[step.name] = result.summary
        statuses[step.name] = "computed"
        timings[step.name] = computed[step.name] = round(seconds, 3)
        log.info("step %s: computed in %.2f s (%d files)", step.name, seconds, len(artifacts))
    bar.close()
    log.info(
        "run end: %d computed, %d cached",
        sum(v == "computed" for v in statuses.values()),
        sum(v == "cached" for v in statuses.values()),
    )
    return StepsRun(summaries, timings, statuses, computed)

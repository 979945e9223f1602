"""The step runner behind ``crknee reproduce``: cached, logged, timed, atomic.

A :class:`Step` names the config sections it reads, the upstream steps it needs and the
crknee modules whose code its result depends on.  Its cache key is the SHA-256 of

    step name + those config sections + the source code of those modules (and of the
    step functions) + crknee's version + the cache keys of the upstream steps + the
    user's added datasets (``crknee data add``),

so changing one parameter reruns exactly the steps that read it and everything
downstream of them.  A step's record (``DIR/cache/<step>.json``: key, summary, SHA-256 of
each artifact) and its state (``DIR/cache/<step>.pkl``, what downstream steps consume)
are written atomically after the step succeeds; a step is skipped when its key matches
the record and every artifact it wrote is still there, unchanged.  A run killed in the
middle of a step leaves no record for it, so the next run redoes that step (the MCMC
step resumes its HDF5 chain instead of restarting it).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

from tqdm import tqdm

from crknee import __version__
from crknee.config import Config
from crknee.errors import CrkneeError
from crknee.io import atomic_target, atomic_write_json, sha256_file

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
    files it wrote (under the output folder); ``state``: a picklable object handed to
    downstream steps.
    """

    summary: dict
    artifacts: list = field(default_factory=list)
    state: object = None


@dataclass(frozen=True)
class Step:
    """One pipeline step: ``func(context) -> StepResult``."""

    name: str
    func: Callable
    sections: tuple = ()
    needs: tuple = ()
    modules: tuple = ()


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

    def state(self, step: str):
        """The state of an upstream step (from this run, or from the cache)."""
        if step not in self._states:
            with open(self._cache / f"{step}.pkl", "rb") as fh:
                self._states[step] = pickle.load(fh)
        return self._states[step]

    def path(self, kind: str, name: str) -> Path:
        """``DIR/<kind>/<name>`` with its folder created (kind: figures, tables, chains)."""
        p = self.out / kind / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


def code_digest(step: Step) -> str:
    """SHA-256 of the source of the modules a step depends on (and of its own function).

    Raises :class:`MissingModuleError` when one of them is not installed.
    """
    h = hashlib.sha256(__version__.encode())
    for mod in (*step.modules, step.func.__module__):
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


def user_data_digest() -> str:
    """SHA-256 of the user's added datasets (``crknee data add``): replacing one reruns the steps."""
    from crknee.data import user_dir

    h = hashlib.sha256()
    root = user_dir()
    if root.is_dir():
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(root)).encode())
            h.update(sha256_file(f).encode())
    return h.hexdigest()


def step_key(step: Step, config: Config, upstream_keys: dict, user_data: str = "") -> str:
    """The cache key of ``step`` (module docstring)."""
    blob = json.dumps(
        {
            "step": step.name,
            "config": config.digest(*step.sections) if step.sections else "",
            "code": code_digest(step),
            "upstream": {n: upstream_keys[n] for n in step.needs},
            "user_data": user_data,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _cached(cache: Path, out: Path, step: Step, key: str):
    record_path = cache / f"{step.name}.json"
    if not record_path.is_file() or not (cache / f"{step.name}.pkl").is_file():
        return None
    record = json.loads(record_path.read_text())
    if record.get("key") != key:
        return None
    for rel, digest in record["artifacts"].items():
        p = out / rel
        if not p.is_file() or sha256_file(p) != digest:
            return None
    return record


def _atomic_pickle(obj, path: Path) -> None:
    with atomic_target(path) as tmp, open(tmp, "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)


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
    """Run ``steps`` in order with caching (module docstring); a missing module is
    reported before any work."""
    out = Path(out)
    check_order(steps)
    cache = out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    log = setup_logging(out, quiet)
    log.info("run start: crknee %s, config %s, fast=%s, workers=%d, out=%s", __version__, config.source, fast, workers, out)
    try:
        require_modules(steps)
    except MissingModuleError as exc:
        log.error("%s", exc)
        raise
    ctx = Context(config, out, workers, not quiet, log, _cache=cache)
    user_data = user_data_digest()
    keys, summaries, timings, statuses, computed = {}, {}, {}, {}, {}
    bar = tqdm(steps, desc="crknee reproduce", unit="step", disable=quiet, leave=False)
    for step in bar:
        bar.set_postfix_str(step.name)
        t0 = time.perf_counter()
        key = step_key(step, config, keys, user_data)
        keys[step.name] = key
        record = _cached(cache, out, step, key)
        if record is not None:
            summaries[step.name] = record["summary"]
            statuses[step.name] = "cached"
            timings[step.name] = round(time.perf_counter() - t0, 3)
            computed[step.name] = record["seconds"]
            log.info("step %s: cached (key %s, computed in %.2f s)", step.name, key[:12], record["seconds"])
            continue
        log.info("step %s: computing (key %s)", step.name, key[:12])
        ctx.key = key
        try:
            result = step.func(ctx)
        except BaseException as exc:
            log.error("step %s: failed after %.2f s: %s: %s", step.name, time.perf_counter() - t0, type(exc).__name__, exc)
            raise
        seconds = time.perf_counter() - t0
        artifacts = {}
        for p in result.artifacts:
            p = Path(p)
            artifacts[str(p.relative_to(out))] = sha256_file(p)
        _atomic_pickle(result.state, cache / f"{step.name}.pkl")
        ctx._states[step.name] = result.state
        atomic_write_json(
            cache / f"{step.name}.json",
            {"key": key, "summary": result.summary, "artifacts": artifacts, "seconds": round(seconds, 3)},
        )
        summaries[step.name] = result.summary
        statuses[step.name] = "computed"
        timings[step.name] = computed[step.name] = round(seconds, 3)
        log.info("step %s: computed in %.2f s (%d files)", step.name, seconds, len(artifacts))
    bar.close()
    log.info("run end: %d computed, %d cached", sum(v == "computed" for v in statuses.values()), sum(v == "cached" for v in statuses.values()))
    return StepsRun(summaries, timings, statuses, computed)

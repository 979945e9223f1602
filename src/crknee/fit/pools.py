"""Where the log-probability is evaluated: in process, a process pool, dask, or MPI.

emcee is run with ``vectorize=True``: each call receives the proposals of half the
ensemble as one (n, ndim) array.  :class:`ChunkedLogProb` splits that array into
``workers`` chunks and maps the (vectorised) log-posterior over a mapper, so the pool
parallelises inside one step while the sampler, and hence its random numbers, stays in
the calling process: a serial, a process-pool and a dask run with the same seed give the
same chain.  The same mappers run many independent chains or a parameter scan with
``mapper.map(function, items)``.

Pools (config ``[fit.sampler] pool``):

- ``"serial"``: no pool (default);
- ``"process"``: :class:`ForkPool`, a fork-started :class:`multiprocessing.pool.Pool`
  with ``workers`` processes; the functions given to :func:`open_pool` as ``preload``
  are inherited by its workers at the fork, so mapping one sends only the items (the
  propagation fit's log-posterior pickles to ~1 MB, which every call would otherwise
  copy to every worker);
- ``"dask"``: a :class:`distributed.Client` on ``scheduler`` (any scheduler address),
  or on a :class:`distributed.LocalCluster` of ``workers`` single-thread processes when
  ``scheduler`` is empty;
- ``"mpi"``: :class:`schwimmbad.MPIPool` (needs schwimmbad and mpi4py; start with
  ``mpiexec -n N crknee fit ...``; ranks > 0 serve log-probabilities and exit).

Nested sampling (dynesty) asks for the log-likelihood one point at a time, inside
independent proposal tasks that it hands to a pool's ``map``.  :class:`BatchPool` is
that pool: it runs up to ``size`` tasks at once in threads and gathers their point
requests (:func:`point_log_likelihood`) into one vectorised call per round, which may
itself be split over any of the pools above.  The result of a point does not depend on
the batch it was evaluated in, so a run does not depend on the pool or on thread timing
(the batch size is dynesty's ``queue_size``: changing it changes the proposals).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from crknee.errors import ConfigError, CrkneeError

POOLS = ("serial", "process", "dask", "mpi")


def _apply(fn, chunk):
    return fn(chunk)


class DaskMapper:
    """``map(fn, items)`` on a dask.distributed client; ``fn`` is scattered once per object."""

    def __init__(self, client):
        self.client = client
        self._scattered = {}

    def _remote(self, fn):
        key = id(fn)
        if key not in self._scattered:
            self._scattered[key] = (fn, self.client.scatter(fn, broadcast=True, hash=False))
        return self._scattered[key][1]

    def map(self, fn, items):
        items = list(items)
        futures = self.client.map(_apply, [self._remote(fn)] * len(items), items, pure=False)
        return self.client.gather(futures)


#: Functions the workers of a :class:`ForkPool` inherit at the fork: id -> function.
_INHERITED: dict = {}


def _call_inherited(key_and_item):
    key, item = key_and_item
    return _INHERITED[key](item)


class ForkPool:
    """``map(fn, items)`` on a fork-started process pool whose workers inherit
    ``functions`` (module docstring); any other ``fn`` is pickled as usual."""

    def __init__(self, workers: int, functions=()):
        self._keys = {id(f) for f in functions}
        for f in functions:
            _INHERITED[id(f)] = f
        self.pool = multiprocessing.get_context("fork").Pool(workers)

    def map(self, fn, items):
        key = id(fn)
        if key in self._keys and _INHERITED.get(key) is fn:
            return self.pool.map(_call_inherited, [(key, item) for item in items])
        return self.pool.map(fn, items)

    def close(self):
        self.pool.terminate()
        self.pool.join()
        for key in self._keys:
            _INHERITED.pop(key, None)


class ChunkedLogProb:
    """Vectorised log-probability evaluated in ``n_chunks`` slices over ``mapper``."""

    def __init__(self, fn, mapper, n_chunks: int):
        self.fn, self.mapper, self.n_chunks = fn, mapper, int(n_chunks)

    def __call__(self, coords) -> np.ndarray:
        chunks = [c for c in np.array_split(np.asarray(coords), self.n_chunks) if len(c)]
        return np.concatenate(self.mapper.map(self.fn, chunks))


def check_pool_settings(settings: dict, where: str = "fit.sampler") -> None:
    """Raise :class:`ConfigError` for an unknown pool or a bad worker count.  A pool is a
    name of :data:`POOLS` or any object with a callable ``map(fn, items)`` (as in emcee)."""
    kind = settings.get("pool", "serial")
    if not is_mapper(kind) and kind not in POOLS:
        raise ConfigError(
            f"{where}.pool must be one of {POOLS} or an object with a map(fn, items) method; got {kind!r}"
        )
    workers = settings.get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"{where}.workers must be an integer >= 1; got {workers!r}")
    scheduler = settings.get("scheduler", "")
    if not isinstance(scheduler, str):
        raise ConfigError(f"{where}.scheduler must be a string address; got {scheduler!r}")


def is_mapper(obj) -> bool:
    """True for a user-supplied pool: any object (not a str) with a callable ``map``."""
    return not isinstance(obj, str) and callable(getattr(obj, "map", None))


@contextlib.contextmanager
def open_pool(kind="serial", workers: int = 1, scheduler: str = "", preload=()):
    """Context manager yielding a mapper (an object with ``map(fn, items)``), or None
    for ``"serial"``.  ``preload``: functions the mapper will be asked to map, handed to a
    ``"process"`` pool's workers once (:class:`ForkPool`).  ``kind`` may itself be such an
    object (any pool with ``map``, as in emcee): it is yielded unchanged and left open (its
    owner closes it).  Everything this function started is shut down on exit."""
    check_pool_settings({"pool": kind, "workers": workers, "scheduler": scheduler})
    if is_mapper(kind):
        yield kind
    elif kind == "serial":
        yield None
    elif kind == "process":
        pool = ForkPool(workers, preload)
        try:
            yield pool
        finally:
            pool.close()
    elif kind == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # optional dependency (extra "dask")
            raise ConfigError("fit.sampler.pool = 'dask' needs dask.distributed (pip install 'crknee[dask]')") from exc
        if scheduler:
            with Client(scheduler) as client:
                yield DaskMapper(client)
        else:
            with (
                LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                yield DaskMapper(client)
    else:
        try:
            from schwimmbad import MPIPool
        except ImportError as exc:  # optional: schwimmbad + mpi4py
            raise ConfigError(
                "fit.sampler.pool = 'mpi' needs schwimmbad and mpi4py (pip install schwimmbad mpi4py)"
            ) from exc
        pool = MPIPool()
        if not pool.is_master():
            pool.wait()
            sys.exit(0)
        try:
            yield pool
        finally:
            pool.close()


def wrap(fn, mapper, workers: int):
    """``fn`` itself for a serial run, else a :class:`ChunkedLogProb` over ``mapper``."""
    return fn if mapper is None else ChunkedLogProb(fn, mapper, max(int(workers), 1))


_task = threading.local()


class _Round:
    """The point requests of one group of concurrent tasks: when every task still running
    waits for a value, the last one to arrive evaluates them all in one vectorised call."""

    def __init__(self, fn, n_tasks: int):
        self.fn, self.running, self.pending = fn, n_tasks, []
        self.cond = threading.Condition()

    def request(self, x) -> float:
        slot = []
        with self.cond:
            self.pending.append((np.asarray(x, dtype=float), slot))
            self._evaluate_if_complete()
            while not slot:
                self.cond.wait()
        if isinstance(slot[0], BaseException):
            raise slot[0]
        return slot[0]

    def task_done(self):
        with self.cond:
            self.running -= 1
            self._evaluate_if_complete()

    def _evaluate_if_complete(self):
        if not self.pending or len(self.pending) < self.running:
            return
        batch, self.pending = self.pending, []
        try:
            values = [float(v) for v in self.fn(np.stack([x for x, _ in batch]))]
        except BaseException as exc:  # handed to every waiting task, raised in map()
            values = [exc] * len(batch)
        for (_, slot), v in zip(batch, values):
            slot.append(v)
        self.cond.notify_all()


class BatchPool:
    """A pool for dynesty (``map``, ``size``) that evaluates the point requests of its
    tasks in vectorised batches of up to ``size`` points with ``fn`` ((n, ndim) ->
    (n,)).  Counts the points evaluated in ``n_evaluations``.  Use as a context manager
    (the worker threads are shut down on exit)."""

    def __init__(self, fn, size: int):
        if not isinstance(size, int) or size < 1:
            raise ConfigError(f"batch size must be an integer >= 1; got {size!r}")
        self.fn, self.size, self.n_evaluations = fn, size, 0
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="crknee-batch")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._threads.shutdown(wait=True)

    def _counted(self, x):
        self.n_evaluations += len(x)
        return self.fn(x)

    def map(self, func, items) -> list:
        items = list(items)
        out = []
        for start in range(0, len(items), self.size):
            chunk = items[start : start + self.size]
            round_ = _Round(self._counted, len(chunk))
            futures = [self._threads.submit(_run_task, round_, func, item) for item in chunk]
            out.extend(f.result() for f in futures)
        return out


def _run_task(round_, func, item):
    _task.round = round_
    try:
        return func(item)
    finally:
        _task.round = None
        round_.task_done()


def point_log_likelihood(x) -> float:
    """The log-likelihood of one point, evaluated in the vectorised batch of the
    :class:`BatchPool` task that asks for it (the function dynesty is given; it holds no
    state, so a pickled sampler restores with any pool)."""
    round_ = getattr(_task, "round", None)
    if round_ is None:
        raise CrkneeError("point_log_likelihood called outside a BatchPool task")
    return round_.request(x)

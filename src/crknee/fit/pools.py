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
- ``"process"``: :class:`multiprocessing.pool.Pool` with ``workers`` processes;
- ``"dask"``: a :class:`distributed.Client` on ``scheduler`` (any scheduler address),
  or on a :class:`distributed.LocalCluster` of ``workers`` single-thread processes when
  ``scheduler`` is empty;
- ``"mpi"``: :class:`schwimmbad.MPIPool` (needs schwimmbad and mpi4py; start with
  ``mpiexec -n N crknee fit ...``; ranks > 0 serve log-probabilities and exit).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import sys

import numpy as np

from crknee.errors import ConfigError

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


class ChunkedLogProb:
    """Vectorised log-probability evaluated in ``n_chunks`` slices over ``mapper``."""

    def __init__(self, fn, mapper, n_chunks: int):
        self.fn, self.mapper, self.n_chunks = fn, mapper, int(n_chunks)

    def __call__(self, coords) -> np.ndarray:
        chunks = [c for c in np.array_split(np.asarray(coords), self.n_chunks) if len(c)]
        return np.concatenate(self.mapper.map(self.fn, chunks))


def check_pool_settings(settings: dict, where: str = "fit.sampler") -> None:
    """Raise :class:`ConfigError` for an unknown pool or a bad worker count."""
    kind = settings.get("pool", "serial")
    if kind not in POOLS:
        raise ConfigError(f"{where}.pool must be one of {POOLS}; got {kind!r}")
    workers = settings.get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ConfigError(f"{where}.workers must be an integer >= 1; got {workers!r}")
    scheduler = settings.get("scheduler", "")
    if not isinstance(scheduler, str):
        raise ConfigError(f"{where}.scheduler must be a string address; got {scheduler!r}")


@contextlib.contextmanager
def open_pool(kind: str = "serial", workers: int = 1, scheduler: str = ""):
    """Context manager yielding a mapper (an object with ``map(fn, items)``), or None
    for ``"serial"``.  Everything it started is shut down on exit."""
    check_pool_settings({"pool": kind, "workers": workers, "scheduler": scheduler})
    if kind == "serial":
        yield None
    elif kind == "process":
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield pool
    elif kind == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # optional dependency (extra "dask")
            raise ConfigError("fit.sampler.pool = 'dask' needs dask.distributed (pip install 'crknee[dask]')") from exc
        if scheduler:
            with Client(scheduler) as client:
                yield DaskMapper(client)
        else:
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                yield DaskMapper(client)
    else:
        try:
            from schwimmbad import MPIPool
        except ImportError as exc:  # optional: schwimmbad + mpi4py
            raise ConfigError("fit.sampler.pool = 'mpi' needs schwimmbad and mpi4py (pip install schwimmbad mpi4py)") from exc
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

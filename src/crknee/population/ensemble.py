"""Many realisations: seeds, dask scale-out, checkpoints and the xarray result.

Realisation i is drawn from ``numpy.random.SeedSequence(seed, spawn_key=(i,))`` (the i-th
child of ``SeedSequence(seed).spawn``), so its sources do not depend on how realisations
are grouped into tasks or on the number of workers: a run is bit-identical for 1, 2 or
1000 workers.  Tasks of ``chunk`` consecutive realisations run on a dask.distributed
cluster (a :class:`distributed.LocalCluster` of ``workers`` single-thread processes by
default, or any scheduler address); each finished task is checkpointed in
``out/chunks/`` as an ``.npz`` written atomically (:mod:`crknee.io`) with a JSON record
of its SHA-256 and of the run's fingerprint (spec, seed, chunk bounds, crknee version).
On resume a chunk is reused only if both files agree and its arrays have the expected
shapes; anything else is recomputed (a damaged checkpoint is never trusted).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

from crknee import __version__
from crknee.errors import InputError
from crknee.io import atomic_target, atomic_write_json, sha256_file
from crknee.population.realisation import OUTPUTS, Prepared, prepare, realise

#: Realisations per dask task (and per checkpoint file).
DEFAULT_CHUNK = 25


def realisation_seed(seed: int, i: int) -> np.random.SeedSequence:
    """The seed of realisation ``i`` of a run with ``seed`` (child i of SeedSequence(seed))."""
    return np.random.SeedSequence(seed, spawn_key=(int(i),))


def run_chunk(prep: Prepared, seed: int, start: int, stop: int) -> dict:
    """Realisations start..stop-1 stacked: {output: array (stop - start, K, ...)}."""
    rows = [realise(prep, realisation_seed(seed, i)) for i in range(start, stop)]
    return {k: np.stack([r[k] for r in rows]) for k in OUTPUTS}


def fingerprint(prep: Prepared, seed: int) -> str:
    """SHA-256 naming what a chunk depends on: the spec, the seed and crknee's version."""
    return hashlib.sha256(f"{prep.spec!r}|{seed}|{__version__}".encode()).hexdigest()


def _chunk_paths(out: Path, start: int, stop: int):
    stem = out / "chunks" / f"chunk_{start:08d}_{stop:08d}"
    return stem.with_suffix(".npz"), stem.with_suffix(".json")


def _expected_shapes(prep: Prepared, n: int) -> dict:
    K = prep.spec.E_GeV.size
    return {k: (n, K, 3) if k == "dipole" else (n, K) for k in OUTPUTS}


def save_chunk(out: Path, prep: Prepared, seed: int, start: int, stop: int, result: dict) -> None:
    """Write one chunk atomically: the arrays, then the record of their SHA-256."""
    npz, rec = _chunk_paths(out, start, stop)
    with atomic_target(npz, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **result)
    atomic_write_json(
        rec, {"fingerprint": fingerprint(prep, seed), "start": start, "stop": stop, "sha256": sha256_file(npz)}
    )


def load_chunk(out: Path, prep: Prepared, seed: int, start: int, stop: int) -> dict | None:
    """The checkpointed chunk if it is intact and belongs to this run, else None (with a
    warning when a file exists but fails verification)."""
    npz, rec = _chunk_paths(out, start, stop)
    if not npz.exists() and not rec.exists():
        return None
    try:
        meta = json.loads(rec.read_text())
        if meta.get("fingerprint") != fingerprint(prep, seed) or (meta.get("start"), meta.get("stop")) != (start, stop):
            raise ValueError("checkpoint of another run (spec, seed or version differ)")
        if meta.get("sha256") != sha256_file(npz):
            raise ValueError("SHA-256 mismatch")
        with np.load(npz) as data:
            result = {k: data[k] for k in OUTPUTS}
        for k, shape in _expected_shapes(prep, stop - start).items():
            if result[k].shape != shape:
                raise ValueError(f"{k} has shape {result[k].shape}, expected {shape}")
        return result
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        warnings.warn(f"checkpoint {npz.name} not reused ({exc}); recomputing it", stacklevel=2)
        return None


def _client(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def run(
    spec,
    n: int,
    seed: int = 0,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    out=None,
    chunk: int = DEFAULT_CHUNK,
    progress: bool = False,
    prep: Prepared | None = None,
    dask: bool = True,
):
    """``n`` realisations of ``spec`` as an xarray Dataset (:func:`to_dataset`).

    ``workers`` local processes (ignored with ``scheduler``, a dask-distributed address);
    ``dask=False`` runs in this process (same numbers); ``out`` a folder for checkpoints
    (a killed run restarted with the same arguments resumes); ``progress`` a tqdm bar.
    """
    for name, v, lo in (("n", n, 1), ("chunk", chunk, 1), ("workers", workers, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InputError(f"{name} must be an integer >= {lo}; got {v!r}")
    prep = prepare(spec) if prep is None else prep
    out = None if out is None else Path(out)
    bounds = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
    results = {}
    todo = []
    for a, b in bounds:
        got = load_chunk(out, prep, seed, a, b) if out is not None else None
        if got is None:
            todo.append((a, b))
        else:
            results[a] = got
    from tqdm.auto import tqdm

    bar = tqdm(
        total=n,
        initial=sum(b - a for a, b in bounds if a in results),
        disable=not progress,
        unit="realisation",
        desc="population",
    )

    def done(a, b, res):
        results[a] = res
        if out is not None:
            save_chunk(out, prep, seed, a, b, res)
        bar.update(b - a)

    try:
        if todo and not dask:
            for a, b in todo:
                done(a, b, run_chunk(prep, seed, a, b))
        elif todo:
            from distributed import as_completed

            client, cluster = _client(workers, scheduler)
            try:
                remote = client.scatter(prep, broadcast=True, hash=False)
                futures = {client.submit(run_chunk, remote, seed, a, b, pure=False): (a, b) for a, b in todo}
                for fut in as_completed(futures):
                    a, b = futures[fut]
                    done(a, b, fut.result())
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    finally:
        bar.close()
    stacked = {k: np.concatenate([results[a][k] for a, _ in bounds]) for k in OUTPUTS}
    return to_dataset(prep, stacked, seed)


def to_dataset(prep: Prepared, stacked: dict, seed: int):
    """xarray Dataset: per-realisation outputs (dims realisation, energy[, component]) and
    the exact ensemble means of the population (``mean_*``) and skip RMS (``skip_rel_rms``)."""
    import xarray as xr

    spec, cont = prep.spec, prep.continuum
    g = cont.grid
    n = stacked["flux_p"].shape[0]
    dims = ("realisation", "energy")
    units = {
        "flux_p": "m-2 s-1 sr-1 GeV-1",
        "flux_he": "m-2 s-1 sr-1 GeV-1",
        "flux_all": "m-2 s-1 sr-1 GeV-1",
        "brightest_d_kpc": "kpc",
        "brightest_age_Myr": "Myr",
        "brightest_l_deg": "deg",
    }
    data = {
        k: (
            (dims + ("component",)) if k == "dipole" else dims,
            v.astype(np.int8) if v.dtype == bool else v,
            {"units": units.get(k, "")},
        )
        for k, v in stacked.items()
    }
    mean = cont.mean_flux
    num = cont.mean_dipole_num.sum(0)
    data.update(
        {
            "mean_flux_p": ("energy", mean[g.protons].sum(0), {"units": units["flux_p"]}),
            "mean_flux_he": ("energy", mean[g.helium].sum(0), {"units": units["flux_p"]}),
            "mean_flux_all": ("energy", mean.sum(0), {"units": units["flux_p"]}),
            "mean_dipole": (("energy", "component"), num / mean.sum(0)[:, None], {"units": ""}),
            "skip_rel_rms": ("energy", cont.rel_rms.max(0), {"units": ""}),
        }
    )
    ds = xr.Dataset(
        data,
        coords={
            "realisation": np.arange(n),
            "energy": ("energy", spec.E_GeV, {"units": "GeV"}),
            "component": ["x", "y", "z"],
        },
    )
    ds.attrs.update(
        {
            "seed": int(seed),
            "crknee_version": __version__,
            "classes": ",".join(c.name for c in spec.classes),
            "spec": repr(spec),
            "description": "Discrete-source population realisations (crknee.population): LIS fluxes per "
            "total energy per particle; dipole = all-particle, Galactic Cartesian; share = "
            "brightest single source / total; brightest_* = brightest proton source; "
            "brightest_valid = it is in the diffusive regime (c t >= 10 d, 3D/c <= d)",
        }
    )
    return ds

"""Benchmark: the population kernel (source-energy evaluations per second per core) and
realisations of the default populations per second (serial, and dask with 1 and 2 workers).

An evaluation = one source at one (species, energy): Green's function, its gradient and
the brightest-source bookkeeping (crknee.population.kernel.accumulate).  CPU time of this
process (time.process_time) measures the kernel; wall time measures the ensembles.
Run: ``python benchmarks/bench_population.py [n_realisations_for_scaling]``.
"""

import os
import sys
import time

import numpy as np

from crknee.population import ensemble
from crknee.population.realisation import draw, prepare, sum_sources
from crknee.population.spec import load_spec


def count_evaluations(grid, sources):
    inside = sources.x**2 + sources.y**2
    return int(
        sum(
            np.count_nonzero((sources.age < grid.T[s, k]) & (inside < grid.rho[s, k] ** 2))
            for s in range(grid.T.shape[0])
            for k in range(grid.T.shape[1])
        )
    )


def main(n_scaling=40):
    t0 = time.perf_counter()
    spec = load_spec()
    prep = prepare(spec)
    print(f"prepare (exact means, windows) of the default populations: {time.perf_counter() - t0:.1f} s wall")
    g = prep.continuum.grid
    rng = np.random.default_rng(0)
    srcs = [draw(prep, rng) for _ in range(3)]
    sum_sources(g, spec.H_kpc, srcs[0])  # compile / load the numba cache
    n_eval, cpu = 0, 0.0
    for s in srcs:
        n_eval += count_evaluations(g, s)
        c0 = time.process_time()
        sum_sources(g, spec.H_kpc, s)
        cpu += time.process_time() - c0
    print(
        f"kernel: {n_eval / len(srcs):.3g} evaluations per realisation "
        f"({np.mean([len(s) for s in srcs]):.0f} sources, {g.T.size} species x energies); "
        f"{n_eval / cpu:.3g} evaluations/s per core (CPU time)"
    )
    c0, w0 = time.process_time(), time.perf_counter()
    ensemble.run(spec, 8, seed=1, prep=prep, dask=False)
    cpu1, wall1 = (time.process_time() - c0) / 8, (time.perf_counter() - w0) / 8
    print(
        f"serial: {cpu1:.3f} s CPU, {wall1:.3f} s wall per realisation (draw + kernel + outputs); "
        f"1e4 realisations on 2 cores: {1e4 * cpu1 / 2 / 60:.1f} min (CPU-time projection)"
    )
    for workers in (1, 2):
        w0 = time.perf_counter()
        ensemble.run(spec, n_scaling, seed=1, prep=prep, workers=workers, chunk=max(1, n_scaling // (4 * workers)))
        wall = time.perf_counter() - w0
        print(
            f"dask LocalCluster, {workers} worker(s): {n_scaling} realisations in {wall:.1f} s wall "
            f"(includes cluster start-up): {n_scaling / wall:.2f} realisations/s"
        )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared: timings are noisy)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

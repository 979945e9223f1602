"""Benchmark: vectorised knee-source evaluations per second on one core.

Each evaluation = proton spectrum on 30 energies + all-particle flux and dipole on 10
energies (10-isotope GALPROP composition).  Run: ``python benchmarks/bench_sources.py``.
"""
import time

import numpy as np

from crknee.sources.model import KneeModel


def main(batches=(32, 128, 1024), seconds=1.0):
    model = KneeModel(np.logspace(3, 8, 30), np.logspace(4, 8, 10), ("H1",))
    rng = np.random.default_rng(0)
    for W in batches:
        P = (rng.uniform(0, 360, W), rng.uniform(-5, 5, W), rng.uniform(1, 5, W), rng.uniform(3, 6, W),
             10 ** rng.uniform(5, 7, W), rng.uniform(2.0, 2.6, W), 10 ** rng.uniform(49, 51, W))
        model(*P)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            model(*P)
            n += 1
        rate = n * W / (time.perf_counter() - t0)
        print(f"batch {W:5d}: {rate:12.0f} evaluations/s")


if __name__ == "__main__":
    main()

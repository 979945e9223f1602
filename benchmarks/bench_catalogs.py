"""Timing of the candidate search (crknee.catalogs) against the posterior size.

Run: ``.venv/bin/python benchmarks/bench_catalogs.py``.  The KDE costs ~ n_samples x
(n_samples + n_binaries x N_DISTANCE_NODES + grid) kernel evaluations; samples beyond
HPDRegion's MAX_SAMPLES are thinned, so the cost saturates.
"""

import time

import numpy as np

from crknee.catalogs import HPDRegion, find_candidates, load_binaries, paper_posterior


def main():
    binaries = load_binaries()
    print(f"{len(binaries)} binaries (merged bundled catalogues)")
    print(f"{'samples':>8} {'used':>6} {'HPD [s]':>8} {'candidates [s]':>15} {'inside 1 sigma':>15}")
    for n in (500, 2000, 4000, 20000):
        post = paper_posterior(n, np.random.default_rng(0))
        t0 = time.perf_counter()
        region = HPDRegion(post["l_deg"], post["d_kpc"], convention="2d")
        t1 = time.perf_counter()
        table = find_candidates(region, binaries)
        t2 = time.perf_counter()
        print(f"{n:>8} {region.n_samples:>6} {t1 - t0:>8.2f} {t2 - t1:>15.2f} {table.meta['n_inside_1sigma']:>15}")


if __name__ == "__main__":
    main()

"""Cost of the integrity checks of ``crknee reproduce`` (issue 11).

Run: ``.venv/bin/python benchmarks/bench_integrity.py``.  Measures the bundled-manifest
check made at the start of every run, the data digest that enters every step's cache key
(first in a process: every file read; then memoised on (path, inode, size, mtime)), a
state write/read round trip of the background solution's size, and the whole-file check
of a chain before it is resumed.
"""

import tempfile
import time
from pathlib import Path

import numpy as np


def _best(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    from crknee.data import verify_manifest
    from crknee.pipeline.engine import data_digest, data_files
    from crknee.pipeline.states import read_state, write_state

    files = data_files()
    size = sum(p.stat().st_size for _, p in files)
    print(f"data files: {len(files)}, {size / 2**20:.1f} MiB")
    t0 = time.perf_counter()
    data_digest()
    print(f"data digest, first in this process (reads every file): {1e3 * (time.perf_counter() - t0):.1f} ms")
    print(f"data digest, memoised (stat only):                     {1e3 * _best(data_digest):.2f} ms")
    print(f"bundled manifest check (verify_manifest, reads every bundled file): {1e3 * _best(verify_manifest):.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        tree = {"raw": {"modes": rng.random((76, 40, 201, 3)), "psi": rng.random((76, 201, 3))}, "n": ["H1"] * 76}
        path = Path(tmp) / "s.npz"
        w = _best(lambda: write_state(path, tree), 3)
        r = _best(lambda: read_state(path), 3)
        print(
            f"state of the paper background ({path.stat().st_size / 2**20:.1f} MiB): write {1e3 * w:.0f} ms, "
            f"read {1e3 * r:.0f} ms"
        )

        from crknee.fit.sampler import ResumableHDFBackend, chain_problem

        chain = Path(tmp) / "chain.h5"
        backend = ResumableHDFBackend(str(chain), name="mcmc")
        nwalkers, ndim, nsteps = 32, 7, 20000  # the paper config's chain
        with backend.session():
            backend.reset(nwalkers, ndim)
            with backend.open("a") as f:
                g = f["mcmc"]
                g["chain"].resize(nsteps, axis=0)
                g["log_prob"].resize(nsteps, axis=0)
                g["chain"][:] = rng.random((nsteps, nwalkers, ndim))
                g["log_prob"][:] = -rng.random((nsteps, nwalkers))
                g.attrs["iteration"] = nsteps
        c = _best(lambda: chain_problem(chain), 3)
        print(
            f"chain check before resuming ({nsteps} steps x {nwalkers} walkers x {ndim}, "
            f"{chain.stat().st_size / 2**20:.1f} MiB): {1e3 * c:.0f} ms"
        )


if __name__ == "__main__":
    main()

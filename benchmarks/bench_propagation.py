"""Timing of the background solver (crknee.propagation): full network and B/C-only.

Run: ``.venv/bin/python benchmarks/bench_propagation.py``.  Issue 3 asks <= 2 s for the
full network.  The cost is one banded solve per nuclide over all Bessel modes at once,
so it scales as n_nuclides x n_modes x n_energies; the network (cross sections) is
built once and cached.  Best of 3 runs is printed (the machine is shared).  Memory: the
peak of Python allocations during one full solve (tracemalloc, numpy arrays included) and
the process's peak resident set (resource.getrusage, whole run).  Last, B/C(10 GeV/n) and
the AMS-02 B/C chi2 for R0 = 1, 2, 4 GV (docs/propagation.md, "Results").
"""
import resource
import time
import tracemalloc

import astropy.units as u
import numpy as np

from crknee.propagation import PropagationModel, Q_UNIT, solve
from crknee.propagation.fitting import bc_chi2
from crknee.propagation.network import build_network


def best_of(f, n=3):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    t0 = time.perf_counter()
    full = build_network()
    t_net = time.perf_counter() - t0
    light = build_network(heaviest="O16")
    print(f"network build (first call, cached after): {t_net:.2f} s; "
          f"full {len(full.nuclides)} nuclides, B/C-only (<= O16) {len(light.nuclides)}")
    E = np.logspace(-1, 8, 150)
    t0 = time.perf_counter()
    full.sigma_prod(E)
    full.sigma_inel(E)
    print(f"cross sections of the full network on 150 energies: {1e3 * (time.perf_counter() - t0):.1f} ms")
    unit = [1, 1, 1] * Q_UNIT
    print(f"{'case':<40} {'n_E':>4} {'modes':>5} {'time [s]':>9} {'B/C(10 GeV/n)':>14}")
    for label, net, kw in (
        ("full network, default grid", full, {}),
        ("full network + p/He normalisation fit", full, {"fit": True}),
        ("B/C-only network, default grid", light, {}),
        ("full network, 14 points/decade, 30 modes", full, {"points_per_decade": 14, "n_modes": 30}),
        ("full network, 40 points/decade", full, {"points_per_decade": 40}),
    ):
        fit = kw.pop("fit", False)
        model = PropagationModel(**kw)
        dt, sol = best_of(lambda: solve(model, network=net, norms=None if fit else unit))
        bc = float(sol.ratio("B", "C", 10 * u.GeV))
        print(f"{label:<40} {sol.raw.ekn.size:>4} {model.n_modes:>5} {dt:>9.3f} {bc:>14.4f}")
    model = PropagationModel()
    tracemalloc.start()
    sol = solve(model, network=full, norms=unit)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"full network, default grid: {len(full.nuclides)} nuclides x {model.n_modes} modes x "
          f"{sol.raw.ekn.size} energies x 3 groups; peak Python allocation {peak / 2**20:.0f} MiB, "
          f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")
    print(f"{'R0 [GV]':>8} {'B/C(10 GeV/n) Earth':>20} {'LIS':>7} {'AMS-02 chi2 / N':>16}")
    for R0 in (1.0, 2.0, 4.0):
        sol = solve(PropagationModel(R0=R0 * u.GV), network=full)
        chi2, n = bc_chi2(sol)
        bc = [float(sol.ratio("B", "C", 10 * u.GeV, at=at)) for at in ("earth", "lis")]
        print(f"{R0:>8.0f} {bc[0]:>20.4f} {bc[1]:>7.4f} {chi2:>9.1f} / {n} = {chi2 / n:.2f}")
    print(f"AMS-02 B/C: phi = 550 MV, all {n} points; B/C does not depend on the normalisations "
          f"(no fitted parameter, dof = N); crknee's default is R0 = 1 GV")


if __name__ == "__main__":
    main()

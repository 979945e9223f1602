"""Timing of the background solver (crknee.propagation): full network and B/C-only.

Run: ``.venv/bin/python benchmarks/bench_propagation.py``.  Issue 3 asks <= 2 s for the
full network.  The cost is one banded solve per nuclide over all Bessel modes at once,
so it scales as n_nuclides x n_modes x n_energies; the network (cross sections) is
built once and cached.  Best of 3 runs is printed (the machine is shared).
"""
import time

import astropy.units as u

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
    sol = solve(PropagationModel(), network=full)
    chi2, n = bc_chi2(sol)
    print(f"Table 1, phi = 550 MV: AMS-02 B/C chi2 = {chi2:.1f} for {n} points ({chi2 / n:.2f} per point)")


if __name__ == "__main__":
    main()

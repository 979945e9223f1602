"""Timing of the background solver (crknee.propagation): full network and B/C-only, and
the fit resolution of issue 15 (``--fit``: only that part).

Run: ``.venv/bin/python benchmarks/bench_propagation.py [--fit]``.  Fit resolution:
ms per solve of :class:`crknee.propagation.PreparedSolver` at
:data:`crknee.propagation.FIT_RESOLUTION` (Li..O network + p, He; issue 15 asks
<= 20 ms) against a default-resolution :func:`crknee.propagation.solve` of the same
network, and the largest deviation of every fitted observable (AMS-02 B/C, B/O, Be/B,
Li/C, C, O, p, He at Earth, 2 GV - 2 TV, phi = 0.3 and 0.8 GV) over three parameter sets.  Issue 3 asks <= 2 s for the
full network.  The cost is one banded solve per nuclide over all Bessel modes at once,
so it scales as n_nuclides x n_modes x n_energies; the network (cross sections) is
built once and cached.  Best of 3 runs is printed (the machine is shared).  Memory: the
peak of Python allocations during one full solve (tracemalloc, numpy arrays included) and
the process's peak resident set (resource.getrusage, whole run).  Last, B/C(10 GeV/n) and
the AMS-02 B/C chi2 for R0 = 1, 2, 4 GV (docs/propagation.md, "Results").
"""

import resource
import sys
import time
import tracemalloc

import astropy.units as u
import numpy as np

from crknee.propagation import Q_UNIT, PreparedSolver, PropagationModel, fit_resolution_model, solve
from crknee.propagation.fitting import bc_chi2
from crknee.propagation.network import build_network


def best_of(f, n=3):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return min(times), out


R_AMS = np.geomspace(2.0, 2000.0, 25) * u.GV
OBSERVABLES = ("B/C", "B/O", "Be/B", "Li/C", "C", "O", "H", "He")
#: Parameter sets of the validation (as tests/test_propagation_resolution.py).
PARAMETER_SETS = {
    "Table 1": {},
    "v_A 40, break": dict(
        D0=2.0e28 * u.cm**2 / u.s, delta=0.45, v_A=40 * u.km / u.s, Delta_delta=0.2, R_b=250 * u.GV, s_b=0.1
    ),
    "V_c 15, H 8": dict(
        D0=6e28 * u.cm**2 / u.s, delta=0.6, v_A=10 * u.km / u.s, V_c=15 * u.km / u.s, H=8 * u.kpc, eta=-0.5
    ),
}


def observables(sol, phi_GV):
    phi = phi_GV * u.GV
    out = {}
    for key in OBSERVABLES:
        if "/" in key:
            num, den = key.split("/")
            out[key] = sol.ratio(num, den, R_AMS, var="R", phi=phi)
        else:
            out[key] = sol.earth(key, R_AMS, var="R", phi=phi).value
    return out


def fit_resolution():
    light = build_network(heaviest="O16")
    unit = [1, 1, 1] * Q_UNIT
    t0 = time.perf_counter()
    ps = PreparedSolver(fit_resolution_model(), network=light)
    t_prep = time.perf_counter() - t0
    params = dict(D0=3.5e28 * u.cm**2 / u.s, delta=0.4, Delta_delta=0.1)
    t_fit, _ = best_of(lambda: ps.solve(**params), n=20)
    default = PropagationModel(heaviest="O16", **params)
    t_def, _ = best_of(lambda: solve(default, network=light, norms=unit), n=5)
    full = PreparedSolver(fit_resolution_model(heaviest="Fe56"))
    t_full, _ = best_of(lambda: full.solve(**params), n=5)
    t_full_def, _ = best_of(lambda: solve(PropagationModel(**params), network=full.network, norms=unit), n=3)
    print(
        f"fit resolution {ps.model.n_modes} modes, {ps.setup.ekn.size} energies "
        f"({ps.setup.ekn[0]:g}-{ps.setup.ekn[-1]:g} GeV/n); prepare once: {1e3 * t_prep:.0f} ms"
    )
    print(f"{'network':<22} {'default [ms]':>12} {'fit [ms]':>9} {'solves/s':>9} {'speed-up':>9}")
    print(
        f"{'O16..H1 (17 nuclides)':<22} {1e3 * t_def:>12.1f} {1e3 * t_fit:>9.1f} "
        f"{1 / t_fit:>9.0f} {t_def / t_fit:>9.1f}"
    )
    print(
        f"{'Fe56..H1 (76)':<22} {1e3 * t_full_def:>12.1f} {1e3 * t_full:>9.1f} "
        f"{1 / t_full:>9.0f} {t_full_def / t_full:>9.1f}"
    )
    worst = dict.fromkeys(OBSERVABLES, 0.0)
    for kw in PARAMETER_SETS.values():
        ref = solve(PropagationModel(heaviest="O16", **kw), network=light, norms=unit)
        fast = ps.solve(**kw)
        for phi in (0.3, 0.8):
            a, b = observables(ref, phi), observables(fast, phi)
            for key in OBSERVABLES:
                worst[key] = max(worst[key], float(np.max(np.abs(b[key] / a[key] - 1.0))))
    print("max |fit/default - 1| over 2-2000 GV, phi 0.3 and 0.8 GV, sets " + ", ".join(PARAMETER_SETS) + ":")
    print("  " + "  ".join(f"{k} {100 * v:.2f} %" for k, v in worst.items()))


def main():
    fit_resolution()
    if "--fit" in sys.argv:
        return
    t0 = time.perf_counter()
    full = build_network()
    t_net = time.perf_counter() - t0
    light = build_network(heaviest="O16")
    print(
        f"network build (first call, cached after): {t_net:.2f} s; "
        f"full {len(full.nuclides)} nuclides, B/C-only (<= O16) {len(light.nuclides)}"
    )
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
    print(
        f"full network, default grid: {len(full.nuclides)} nuclides x {model.n_modes} modes x "
        f"{sol.raw.ekn.size} energies x 3 groups; peak Python allocation {peak / 2**20:.0f} MiB, "
        f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB"
    )
    print(f"{'R0 [GV]':>8} {'B/C(10 GeV/n) Earth':>20} {'LIS':>7} {'AMS-02 chi2 / N':>16}")
    for R0 in (1.0, 2.0, 4.0):
        sol = solve(PropagationModel(R0=R0 * u.GV), network=full)
        chi2, n = bc_chi2(sol)
        bc = [float(sol.ratio("B", "C", 10 * u.GeV, at=at)) for at in ("earth", "lis")]
        print(f"{R0:>8.0f} {bc[0]:>20.4f} {bc[1]:>7.4f} {chi2:>9.1f} / {n} = {chi2 / n:.2f}")
    print(
        f"AMS-02 B/C: phi = 550 MV, all {n} points; B/C does not depend on the normalisations "
        f"(no fitted parameter, dof = N); crknee's default is R0 = 1 GV"
    )


if __name__ == "__main__":
    main()

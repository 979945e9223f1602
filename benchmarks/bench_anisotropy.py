"""Benchmark of crknee.anisotropy.predict_dipole: parameter sets per second on one core.

Workload (issue 16): the dipole of background + local SNR + knee source for 1e4 knee
parameter sets on the energies of every bundled anisotropy row (``crknee.data``, x or the
bin centre, ``row_energies_GeV``; 184 rows), free space (the paper) and the finite halo
(H = 4.5 kpc, images or slab eigenmodes per energy and block of sets,
crknee.sources.greens), isotropic and field-aligned diffusion.
Background: the paper config's [propagation] at reduced resolution (8 points/decade,
20 Bessel modes) with fitted normalisations; local SNR: Geminga with the
``crknee plot anisotropy --no-fit-snr`` spectrum; galprop composition for both sources.
"fixed tabulated": background + SNR summed once (``tabulate``), as a sampler does;
"fixed each call": the Solution and the PointSource are evaluated inside every call.
BLAS and OpenMP are pinned to one thread.

    .venv/bin/python benchmarks/bench_anisotropy.py [--phase-table]

``--phase-table`` also prints the RA phase and d_perp of background + local SNR (fitted
to AMS-02 + DAMPE protons) + the paper's knee source for D_perp/D_par = 1, 0.1, 0.01
along the IBEX field (docs/anisotropy.md, "Field-aligned dipole").
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402

import astropy.units as u  # noqa: E402
import numpy as np  # noqa: E402

from crknee.anisotropy.field import FieldAlignment  # noqa: E402
from crknee.anisotropy.predict import predict_dipole, row_energies_GeV, tabulate  # noqa: E402
from crknee.sources.injection import galprop_composition  # noqa: E402
from crknee.sources.model import KneeModel  # noqa: E402
from crknee.sources.point import PointSource  # noqa: E402

#: The paper's best-fit knee source (Sec. 3) with the Fig. 4-5 plot's spectrum
#: (crknee plot anisotropy defaults: beta 2.2, Rcut 5 PV, W 1e50 erg).
PAPER_KNEE_ROW = (337.4, 0.0, 2.64, 4.82, 5e6, 2.2, 1e50)


def background():
    """Paper [propagation] at reduced resolution, normalisations fitted as the pipeline does."""
    from crknee.config import paper_path
    from crknee.propagation.fitting import fit_normalisations
    from crknee.propagation.model import model_from_config
    from crknee.propagation.solution import solve

    prop = tomllib.loads(paper_path().read_text())["propagation"]
    prop.update(points_per_decade=8, n_modes=20)
    raw = solve(model_from_config(prop), norms=np.ones(3) * u.Unit("cm-3 GeV-1 Myr-1"))
    data = [(name, {"proton": "H", "helium": "He"}[name.split("/")[0]]) for name in prop["normalisation_datasets"]]
    norm = fit_normalisations(
        raw, data=data, window_GV=tuple(prop["normalisation_window_GV"]), phi=prop["phi_MV"] * u.MV
    )
    return raw.with_norms(norm.norms)


def local_snr(comp, solution=None):
    """Geminga SNR: the plot's fixed spectrum, or fitted to AMS-02 + DAMPE over ``solution``."""
    from crknee.sources.catalogue import LOCAL_SNR, NAMED_SOURCES

    if solution is None:
        e = NAMED_SOURCES[LOCAL_SNR]
        return PointSource(e.name, e.l_deg, e.b_deg, e.d_kpc, e.age_Myr, 2.1, 2e4, energy_erg=1e49, composition=comp)
    from crknee.sources.local_snr import fit_local_snr, proton_data

    Ep, yp, sp = proton_data()
    return fit_local_snr(Ep, yp, sp, lambda x: solution.earth("H", x * u.GeV, "Etot"), composition=comp).source


def random_rows(n, rng):
    """Knee-source rows spanning the fit's prior box (l, b, d, t, Rcut [GV], beta, W [erg])."""
    return np.column_stack(
        [
            rng.uniform(0, 360, n),
            rng.uniform(-5, 5, n),
            rng.uniform(1, 10, n),
            rng.uniform(3, 6, n),
            10 ** rng.uniform(5, 7.5, n),
            rng.uniform(2.0, 2.8, n),
            10 ** rng.uniform(49, 51, n),
        ]
    )


def rate(fn, n_sets, repeat=5):
    """Best-of-``repeat`` parameter sets per second (the machine is shared)."""
    fn()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n_sets / best


def speed(solution, datasets):
    comp = galprop_composition()
    snr = local_snr(comp)
    E = np.concatenate([row_energies_GeV(t) for t in datasets.values()])
    print(
        f"{len(datasets)} bundled anisotropy datasets, {E.size} rows, E = {E.min():.3g} - {E.max():.3g} GeV; "
        f"{len(comp.species)} species; python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}, one thread"
    )
    rng = np.random.default_rng(0)
    field = FieldAlignment(ratio=0.1)
    fixed = tabulate(E, [solution, snr])
    free = KneeModel(E[:1], E, (), composition=comp, diffusion=solution.diffusion)
    halo = KneeModel(E[:1], E, (), composition=comp, diffusion=solution.diffusion, halo_kpc=4.5)
    print(f"{'knee source':<12} {'diffusion':<22} {'fixed part':<17} {'sets':>6} {'sets/s':>10}")
    for label, knee, n in (("free space", free, 10_000), ("halo 4.5 kpc", halo, 10_000)):
        rows = random_rows(n, rng)
        if label == "halo 4.5 kpc":  # keep the source inside the halo
            rows[:, 2] = np.minimum(rows[:, 2], 4.0)
        for f_label, f in (("isotropic", None), ("field-aligned, r=0.1", field)):
            for fx_label, comps in (("tabulated", [fixed, knee]), ("each call", [solution, snr, knee])):
                r = rate(lambda: predict_dipole(E, comps, rows, field=f), n, repeat=5)
                print(f"{label:<12} {f_label:<22} {fx_label:<17} {n:>6} {r:>10.3g}")
    rows = random_rows(10_000, rng)
    r = rate(lambda: free(*rows.T), 10_000, repeat=9)
    print(f"KneeModel alone (all-particle flux + dipole, free space), 1e4 sets: {r:.3g} sets/s")
    rows[:, 2] = np.minimum(rows[:, 2], 4.0)
    r_h = rate(lambda: halo(*rows.T), 10_000, repeat=9)
    print(
        f"KneeModel alone (all-particle flux + dipole, halo 4.5 kpc), 1e4 sets: {r_h:.3g} sets/s "
        f"({r / r_h:.1f}x the free-space time)"
    )
    pred = predict_dipole(E, [fixed, free], rows[:1000], datasets=datasets)
    t0 = time.perf_counter()
    for name in datasets:
        pred.per_dataset(name)
    t1 = time.perf_counter()
    for name in datasets:  # the exposure integrals of the conventions are cached now
        pred.per_dataset(name)
    t2 = time.perf_counter()
    print(
        f"per_dataset for all {len(datasets)} datasets, 1e3 sets: first call {1e3 * (t1 - t0):.0f} ms "
        f"(exposure integrals), then {1e3 * (t2 - t1):.1f} ms"
    )


def phase_table(solution):
    from crknee.anisotropy.field import IBEX_FIELD

    comp = galprop_composition()
    snr = local_snr(comp, solution)
    E = np.array([1e3, 1e4, 1e5, 1e6, 1e7])
    knee = KneeModel(E[:1], E, (), composition=comp, diffusion=solution.diffusion)
    print(
        f"local SNR fitted: W = {snr.energy_erg:.3g} erg, beta = {snr.beta:.3f}, Rcut = {snr.Rcut_GV:.3g} GV, "
        f"d = {snr.d_kpc:.3f} kpc, t = {snr.age_Myr:.3f} Myr"
    )
    print(f"field axis (IBEX ribbon centre): l = {IBEX_FIELD.l_deg:.2f}, b = {IBEX_FIELD.b_deg:.2f} deg")
    print("| E [GeV] | " + " | ".join(f"r = {r:g}: phase [deg], d_perp" for r in (1.0, 0.1, 0.01)) + " |")
    cols = []
    for r in (1.0, 0.1, 0.01):
        f = FieldAlignment(IBEX_FIELD.l_deg, IBEX_FIELD.b_deg, r)
        p = predict_dipole(E, [solution, snr, knee], np.array([PAPER_KNEE_ROW]), field=f)
        cols.append((p.phase_deg[0], p.d_perp[0]))
    for i, e in enumerate(E):
        print(f"| {e:.0e} | " + " | ".join(f"{ph[i]:6.1f}, {dp[i]:.2e}" for ph, dp in cols) + " |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase-table", action="store_true")
    args = ap.parse_args(argv)
    from crknee.data import load, names

    datasets = {name: load(name) for name in names("anisotropy")}
    t0 = time.perf_counter()
    solution = background()
    print(f"background (paper config, 8 points/decade, 20 modes): {time.perf_counter() - t0:.1f} s")
    speed(solution, datasets)
    if args.phase_table:
        phase_table(solution)


if __name__ == "__main__":
    main()

"""crknee.gamma: speed and accuracy of the pp emission against naima, and the Sec. 3 fits.

Run: ``.venv/bin/python benchmarks/bench_gamma.py [--json FILE]``.  Prints

* the time of one 100-energy SED (1 GeV - 1 PeV) with naima's PionDecay (lookup table,
  Python loop over photon energies), crknee from scratch (cross sections included) and
  crknee with a precomputed kernel (what each fit step costs);
* the maximum deviation from naima over 1 GeV - 1 PeV for three proton spectra;
* each source's fit (or Table 2) with its time, and the protons at Earth over LHAASO's
  at 1 PeV, for both containments ("diffusive" default, "all" no-escape limit);
* issue 12: a 40 x 40 (n_H a^2, chi) ratio map of V4641 Sgr at its paper age (one SED
  fit per chi; goal <= 60 s on 2 cores), the plausible range of every source, and the
  leptonic fits with -2 ln(L_lep / L_had).
"""

import argparse
import json
import time

import astropy.units as u
import naima
import numpy as np

import crknee.data
from crknee.gamma import DEFAULTS, PAPER_SOURCES, SEDData, analyse_all, datasets_for, knee_ratios
from crknee.gamma.bands import knee_constraints
from crknee.gamma.emission import PPModel, gamma_sed, kernel, proton_grid, sed_erg_cm2_s
from crknee.gamma.maps import ratio_map


def timeit(fn, n):
    fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def sed_speed_and_accuracy():
    Eg = np.geomspace(1.0, 1e6, 100) * u.GeV
    out = {"deviation": {}}
    spectra = {
        "PL 2.0": naima.models.PowerLaw(1e36 / u.eV, 1 * u.TeV, 2.0),
        "PL 2.7": naima.models.PowerLaw(1e36 / u.eV, 1 * u.TeV, 2.7),
        "ECPL 2.2, 1 PeV": naima.models.ExponentialCutoffPowerLaw(1e36 / u.eV, 1 * u.TeV, 2.2, 1 * u.PeV),
    }
    Ep = proton_grid(1e7) * u.GeV  # naima's default 10 PeV proton range, for a like-for-like comparison
    for label, pl in spectra.items():
        ref = naima.models.PionDecay(pl, nh=1 / u.cm**3).sed(Eg, distance=1 * u.kpc)
        mine = gamma_sed(Eg, Ep, pl(Ep), 1 / u.cm**3, 1 * u.kpc, PPModel(high_energy="kafexhiu"))
        out["deviation"][label] = float(np.max(np.abs((mine / ref).decompose().value - 1)))
    pl = spectra["ECPL 2.2, 1 PeV"]
    pp = naima.models.PionDecay(pl, nh=1 / u.cm**3)

    def naima_sed():
        pp._memoize = False  # no cached result between calls
        pp.sed(Eg, distance=1 * u.kpc)

    Ep8 = proton_grid(1e8) * u.GeV
    N = pl(Ep8)
    K = kernel(Eg.value, Ep8.value)
    Nv = N.to_value(1 / u.GeV)
    out["naima_s"] = timeit(naima_sed, 10)
    out["crknee_full_s"] = timeit(lambda: gamma_sed(Eg, Ep8, N, 1 / u.cm**3, 1 * u.kpc), 50)
    out["crknee_kernel_s"] = timeit(lambda: sed_erg_cm2_s(Eg.value, K, Nv, 1.0, 1.0), 2000)
    return out


def fits(containment):
    t0 = time.perf_counter()
    res = analyse_all(PAPER_SOURCES, {n: {"containment": containment} for n in PAPER_SOURCES})
    total = time.perf_counter() - t0
    ratios = knee_ratios(res)
    return {"total_s": total, "sources": {n: {**r.summary(), "proton_ratio_1PeV": ratios[n]} for n, r in res.items()}}


def maps():
    data = SEDData.from_tables([crknee.data.load(n) for n in datasets_for("V4641 Sgr")])
    t0 = time.perf_counter()
    ratio_map(
        DEFAULTS["V4641 Sgr"],
        data,
        n_H_factors=np.geomspace(1e-3, 1e3, 40),
        chis=np.geomspace(1e-3, 1.0, 40),
        age_factors=(1.0,),
    )
    t_map = time.perf_counter() - t0
    print(f"40 x 40 ratio map, V4641 Sgr, one age: {t_map:.1f} s (40 SED fits; goal <= 60 s)")
    t0 = time.perf_counter()
    res = analyse_all(PAPER_SOURCES)
    kc = knee_constraints(res)
    t_all = time.perf_counter() - t0
    print(f"four sources, 40 chi x 40 n_H a^2 x 3 ages + leptonic fits: {t_all:.1f} s")
    out = {"map_40x40_s": t_map, "all_sources_s": t_all, "sources": {}}
    for name, c in kc.items():
        lr = c.likelihood_ratio or {}
        print(
            f"  {name:16s} [{c.map.label}] n_H = {c.map.params.n_H_cm3:.3g} cm^-3, a = {c.map.a_pc:.3g} pc: "
            f"p(1 PeV)/LHAASO default {c.map.ratio_ref[1, -1]:.3g}, plausible {c.range[0]:.3g} - {c.range[1]:.3g}"
            + (
                f"; -2 ln(L_lep/L_had) = {lr['minus2_ln_L_lep_over_L_had']:.2f} (chi2 had {lr['chi2_hadronic']:.2f}, "
                f"lep {lr['chi2_leptonic']:.2f}; leptonic fit {c.leptonic.seconds:.1f} s)"
                if lr
                else ""
            )
        )
        out["sources"][name] = c.summary()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    args = ap.parse_args()
    sed = sed_speed_and_accuracy()
    print(
        f"100-energy SED: naima {sed['naima_s'] * 1e3:.1f} ms; crknee {sed['crknee_full_s'] * 1e3:.2f} ms "
        f"({sed['naima_s'] / sed['crknee_full_s']:.0f}x), precomputed kernel {sed['crknee_kernel_s'] * 1e6:.1f} us "
        f"({sed['naima_s'] / sed['crknee_kernel_s']:.0f}x)"
    )
    for label, dev in sed["deviation"].items():
        print(f"max |crknee/naima - 1| over 1 GeV - 1 PeV, {label}: {dev * 100:.2f} %")
    report = {"sed": sed}
    for containment in ("diffusive", "all"):
        f = fits(containment)
        report[containment] = f
        print(f"containment = {containment}: four sources in {f['total_s']:.1f} s")
        for name, s in f["sources"].items():
            post = s.get("posterior", {})
            errs = ", ".join(f"{k} = {v['median']:.3f} +{v['plus']:.3f}/-{v['minus']:.3f}" for k, v in post.items())
            print(
                f"  {name:16s} [{s['label']}] beta = {s['beta']:.3f}, L0 = {s['L0_erg_s']:.3g} erg/s, "
                f"Rcut = {s['Rcut_GV'] if s['Rcut_GV'] is None else format(s['Rcut_GV'], '.3g')} GV, "
                + (f"chi2 = {s['chi2']:.2f}/{s['ndof']} ndof, " if s["chi2"] is not None else "")
                + f"{s['seconds']:.2f} s; {errs}; "
                f"p(1 PeV)/LHAASO = {s['proton_ratio_1PeV']:.3g}"
            )
    report["maps"] = maps()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()

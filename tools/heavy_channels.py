"""Nuclei heavier than O in B/C: crknee (GALPROP17_OPT12) against DRAGON2 (Evoli2019).

Regenerates the numbers of docs/nuclear.md, "Nuclei heavier than O in B/C" (issue 15
item 5).  Run::

    PYTHONPATH=src python tools/heavy_channels.py /work/shared/data/nuclear/dragon2/crxsecs_fragmentation_Evoli2019_cumulative_modified.dat

The DRAGON2 table is GPL-2.0 and is not bundled: its path is an argument.  Model:
Table 1 (``PropagationModel()``, default resolution, full network), B/C of elements at
10 GeV/n at Earth (phi = 550 MV).  A channel's contribution is B/C with it over B/C
without it, minus 1 (:func:`crknee.propagation.channels.ratio_change`).
"""

import sys

import astropy.units as u
import numpy as np

from crknee.kinematics import ELEMENT_SYMBOLS
from crknee.propagation import PreparedSolver, PropagationModel
from crknee.propagation.channels import ratio_change, switch_off
from crknee.propagation.crosssections import PRODUCTION_TABLES, read_measured, read_usine

E_GEV = 10.0


def read_dragon2(path):
    """{(parent, child): (ekn [GeV/n], sigma_H [mb])} of the DRAGON2 table (ZZ.AA ids, MeV/n)."""
    rows = np.genfromtxt(path, skip_header=1, usecols=(0, 1, 2, 3))
    out = {}
    for par, chi, e, s in rows:
        key = tuple(f"{ELEMENT_SYMBOLS[int(x) - 1]}{int(round((x - int(x)) * 100))}" for x in (par, chi))
        out.setdefault(key, []).append((e / 1e3, s))
    return {k: np.array(v).T for k, v in out.items()}


def at(ekn, sigma, E):
    return float(np.interp(np.log(E), np.log(ekn), sigma))


def main(path):
    d2 = read_dragon2(path)
    opt12 = read_usine(PRODUCTION_TABLES["GALPROP17_OPT12"])
    meas = read_measured()
    full = PreparedSolver(PropagationModel())
    light = PreparedSolver(PropagationModel(heaviest="O16"))
    net, names, Z = full.network, full.network.names, full.network.Z
    bc = lambda ps, fac=None: float(ps.solve(production_factor=fac).ratio("B", "C", E_GEV * u.GeV))  # noqa: E731
    b_full, b_light = bc(full), bc(light)
    heavy = [n for n, z in zip(names, Z) if z > 8]
    print(
        f"B/C(10 GeV/n, Earth): full {b_full:.4f}, O16 and lighter {b_light:.4f}: +{100 * (b_full / b_light - 1):.2f} %"
    )
    print(
        f"all Z > 8 production switched off in the full network: "
        f"{100 * (bc(full, switch_off(net, [(p, c) for p in heavy for c in names])) / b_light - 1):+.4f} % vs O16 network"
    )
    for label, children in (
        ("B10, B11, Be10", ["B10", "B11", "Be10"]),
        ("B10, B11", ["B10", "B11"]),
        ("Z > 8 nuclei", [n for n, z in zip(names, Z) if z > 8]),
        ("C, N, O", [n for n, z in zip(names, Z) if 6 <= z <= 8]),
    ):
        print(f"  Z > 8 -> {label}: {100 * ratio_change(full, [(p, c) for p in heavy for c in children]):+.2f} %")

    def emulate(ps, values):
        nm, zz, ekn = ps.network.names, ps.network.Z, ps.setup.ekn
        fac = np.ones((len(nm), len(nm), ekn.size))
        for j, p in enumerate(nm):
            for i, c in enumerate(nm):
                if zz[i] <= 2:
                    continue
                if (p, c) not in d2:
                    fac[j, i] = 0.0
                elif values and (p, c) in opt12.blocks:
                    s12 = np.interp(np.log(ekn), np.log(opt12.ekn_GeV), opt12.blocks[(p, c)][:, 0])
                    sd = np.interp(np.log(ekn), np.log(d2[(p, c)][0]), d2[(p, c)][1])
                    fac[j, i] = np.where(s12 > 0, sd / np.where(s12 > 0, s12, 1.0), 0.0)
        return fac

    for label, values in (
        ("DRAGON2 channel list, OPT12 values", False),
        ("DRAGON2 channel list and sigma_H (OPT12 He/H)", True),
    ):
        a, b = bc(light, emulate(light, values)), bc(full, emulate(full, values))
        print(f"{label}: O16 network {a:.4f}, full {b:.4f}: +{100 * (b / a - 1):.2f} %")

    print("| channel | crknee OPT12 H (He) [mb] | DRAGON2 H [mb] | measured on H | contribution to B/C |")
    rows = []
    for p in heavy + ["O16", "C12"]:
        for c in ("B10", "B11", "Be10"):
            if (p, c) not in opt12.blocks:
                continue
            rows.append((ratio_change(full, [(p, c)]), p, c))
    rows.sort(reverse=True)
    for contrib, p, c in rows:
        if abs(contrib) < 1e-3 and p not in ("O16", "C12"):
            continue
        h, he = (at(opt12.ekn_GeV, opt12.blocks[(p, c)][:, k], E_GEV) for k in (0, 1))
        dv = f"{at(*d2[(p, c)], E_GEV):.2f}" if (p, c) in d2 else "0 (no entry)"
        m = meas[(meas["parent"] == p) & (meas["child"] == c)]
        mtxt = "; ".join(
            f"{r['sigma_mb']:.1f} +- {r['err_mb']:.1f} at {r['ekn_GeV']:.2f} ({r['ref']}; OPT12 there "
            f"{at(opt12.ekn_GeV, opt12.blocks[(p, c)][:, 0], r['ekn_GeV']):.1f})"
            for r in m
        )
        print(f"| {p} -> {c} | {h:.2f} ({he:.2f}) | {dv} | {mtxt or '-'} | {100 * contrib:+.2f} % |")


if __name__ == "__main__":
    main(sys.argv[1])

"""The published numbers of Nie, Yue, Guo & Liu, once, for comparison only.

Nothing in crknee's models reads these values (the models take their parameters from
the config); the report, the fit summary and the catalogue checks put crknee's results
beside them.
"""

#: Table 1: parameters of the propagation model.
TABLE1 = {
    "D0_cm2_s": 3.2e28,
    "delta": 0.33,
    "nu1": 2.48,
    "nu2": 2.38,
    "Rbr_GV": 335.0,
    "vA_km_s": 25.0,
    "Rcut_GV": 200.0e3,
}

#: Table 2: proton index beta and luminosity L0 [erg/s] of the microquasars.
TABLE2 = {
    "GRS 1915+105": {"beta": 2.5, "L0_erg_s": 1.5e39},
    "MAXI J1820+070": {"beta": 2.5, "L0_erg_s": 1.0e38},
    "SS 433": {"beta": 2.5, "L0_erg_s": 2.0e39},
    "V4641 Sgr": {"beta": 2.2, "L0_erg_s": 5.0e38},
}

#: Sec. 3: the microquasars' protons are "more than two orders of magnitude lower than
#: the observational data" around the knee.
PROTON_RATIO_1PEV_MAX = 1.0e-2

#: Sec. 3: the knee source, (median, minus, plus) 1 sigma: l = 337.4 (+44.5/-34.7) deg,
#: d = 2.64 (+0.44/-0.45) kpc, t = 4.82 (+0.09/-0.09) Myr.  l on [0, 360) deg.
KNEE_SOURCE = {
    "l_deg": (337.4, 34.7, 44.5),
    "d_kpc": (2.64, 0.45, 0.44),
    "age_Myr": (4.82, 0.09, 0.09),
}

#: Sec. 3 (Fig. 10): binaries inside the 1 sigma region.
CANDIDATES = ("IGR J16195-4945", "IGR J16374-5043", "IGR J16465-4507", "IGR J17544-2619", "XTE J1650-500")


def knee_source_signed_l() -> dict[str, tuple[float, float, float]]:
    """:data:`KNEE_SOURCE` with l on crknee.fit's [-180, 180) axis (337.4 deg -> -22.6 deg)."""
    out = dict(KNEE_SOURCE)
    l, lo, hi = out["l_deg"]
    out["l_deg"] = (round((l + 180.0) % 360.0 - 180.0, 9), lo, hi)
    return out

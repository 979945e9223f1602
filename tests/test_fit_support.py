"""Shared test material for the crknee.fit tests (no tests here).

``synthetic_fixed()`` is a *test fixture*, not a physics model: a smooth proton +
helium "background" J = K E^-2.7 exp(-E / E_c) with K = 6.3e3 m^-2 s^-1 sr^-1 GeV^1.7
(~ the AMS-02 proton flux at 1 TeV, 5e-5 m^-2 s^-1 sr^-1 GeV^-1, Aguilar et al. 2015 PRL
114, 171103) and E_c = 0.3 PeV (the paper's background cut-off, Table 1: R_cut = 200 TV
for protons, within a factor 1.5), and a constant dipole of 5e-4 towards the anti-centre,
in the paper's halo of half-height 4.5 kpc (Table 1).
"""

from __future__ import annotations

import numpy as np

from crknee.fit.likelihood import Piece
from crknee.fit.model import FixedComponents, KneeSourceModel
from crknee.fit.parameters import ParameterSet

K_FLUX = 6.3e3
E_CUT_GEV = 3.0e5
#: A point like the paper's best fit (l = 337.4 deg = -22.6 deg, d = 2.64 kpc, t = 4.82 Myr).
TRUTH = {"l_deg": -22.6, "b_deg": 1.0, "d_kpc": 2.64, "age_Myr": 4.82, "Rcut_PV": 5.0, "beta": 2.3, "log10_E_erg": 49.5}
BOUNDS = {
    "l_deg": (-180, 180),
    "b_deg": (-5, 5),
    "d_kpc": (0.1, 10),
    "age_Myr": (0.5, 30),
    "Rcut_PV": (0.1, 100),
    "beta": (1.5, 3.5),
    "log10_E_erg": (46, 54),
}


def synthetic_fixed() -> FixedComponents:
    E = np.logspace(2, 11, 120)
    J = K_FLUX * E**-2.7 * np.exp(-E / E_CUT_GEV)
    d = np.tile([-5e-4, 0.0, 0.0], (E.size, 1))
    return FixedComponents(E, {"H": J, "He": 0.6 * J}, {"H": d, "He": d}, halo_kpc=4.5)


def parameters(fixed=(), **values) -> ParameterSet:
    spec = {}
    for name, (lo, hi) in BOUNDS.items():
        spec[name] = {
            "value": values.get(name, TRUTH[name]),
            "min": lo,
            "max": hi,
            "prior": "fixed" if name in fixed else "uniform",
        }
    return ParameterSet.from_config(spec, KneeSourceModel.parameters)


def layout_pieces() -> list[Piece]:
    """LHAASO-like proton energies (5 % errors) and anisotropy points (amplitude 10 %,
    phase 10 deg) between 1 PeV and 0.3 EeV; values zero (filled by crknee.fit.mock)."""
    Ep = np.logspace(5.25, 7.0, 15)
    Ea = np.array([1e6, 3e6, 1e7, 3e7, 1e8])
    model = KneeSourceModel(synthetic_fixed())
    truth = np.array([list(TRUTH.values())])
    ev = model.evaluate(truth, Ep)
    Jp = ev["total:H"][0]
    amp = model.evaluate(truth, Ea)["amplitude"][0]
    z = np.zeros(5, bool)
    return [
        Piece("mock protons", "flux", Ep, Jp, 0.05 * Jp, 0.05 * Jp, np.zeros(15, bool), species="H"),
        Piece("mock amplitude", "amplitude", Ea, amp, 0.1 * amp, 0.1 * amp, z),
        Piece("mock phase", "phase", Ea, np.zeros(5), np.full(5, 10.0), np.full(5, 10.0), z),
    ]

"""Decay tables, ghosts and abundances."""

import numpy as np
import pytest

from crknee.data import raw_path
from crknee.errors import InputError
from crknee.propagation.abundances import (
    read_solar_system,
    read_source_abundances,
    rigidity_coefficients,
    source_abundance,
)
from crknee.propagation.decays import ghost_feeding, read_crchart, read_ghosts, read_icrp107


def test_crchart_half_lives_and_daughters():
    d = read_crchart()
    # USINE crchart_Z28_2020 (kyr): 10Be 1510, 14C 5.7, 26Al 910, 36Cl 307, 54Mn 630.
    assert d["Be10"].half_life_Myr == pytest.approx(1.51)
    assert d["Be10"].tau_Myr == pytest.approx(2.178, rel=1e-3)
    assert (d["Be10"].daughter, d["Al26"].daughter, d["Mn54"].daughter) == ("B10", "Mg26", "Fe54")
    assert d["Cl36"].daughter == "Ar36" and d["C14"].daughter == "N14"
    assert "Be7" not in d and "Mn53" not in d  # pure EC: stable when fully stripped


def test_crchart_agrees_with_crams_nucleilist_lifetimes():
    # CRAMS nucleilist.csv (independent table): mean lifetimes [Myr].
    rows = np.loadtxt(raw_path("nuclear/crams/nucleilist.csv"), delimiter=",", comments="#")
    crams = {(int(z), int(a)): tau for z, a, _, tau, *_ in rows if tau > 0}
    d = read_crchart()
    for name, (z, a) in {"Be10": (4, 10), "Al26": (13, 26), "Cl36": (17, 36), "Mn54": (25, 54)}.items():
        assert d[name].tau_Myr == pytest.approx(crams[(z, a)], rel=0.01)
    assert d["C14"].tau_Myr == pytest.approx(crams[(6, 14)], rel=0.02)


def test_icrp107_lab_half_lives():
    lab = read_icrp107()
    assert lab["Be10"][0] == pytest.approx(1.51e6)
    assert lab["Be10"][2] == {"B10": 1.0}
    assert lab["Be7"][1] == "EC"
    # bare 26Al (beta+ only) lives longer than the neutral atom (beta+ and EC)
    assert read_crchart()["Al26"].half_life_Myr * 1e6 > lab["Al26"][0]
    assert lab["Cl36"][2]["Ar36"] == pytest.approx(0.981)


def test_ghosts():
    g = read_ghosts()
    assert len(g) > 300
    c11 = [x for x in g if x.parent == "C11"]
    assert c11[0].child == "B11" and c11[0].branching == 1.0
    feed = ghost_feeding("B11")
    assert feed["C11"] == 1.0
    assert feed["Be11"] == pytest.approx(0.969)  # 11Be -> 11B (96.9 %)
    assert feed["Li11"] == pytest.approx(0.969)  # via 11Be
    assert ghost_feeding("B10") == {"C10": 1.0}


def test_source_abundances_galprop():
    a = read_source_abundances()
    # galdef_56_example: H 1.06e6, 4He 7.199e4, 12C 2819, 16O 3822, 56Fe 697.7
    assert a["H1"] == 1.0
    assert a["C12"] * 1.06e6 == pytest.approx(2819)
    assert a["O16"] * 1.06e6 == pytest.approx(3822)
    assert source_abundance("56Fe") == pytest.approx(697.7 / 1.06e6)
    assert source_abundance("Be10") == 0.0


def test_rigidity_coefficients_follow_galprop_convention():
    # GALPROP: q_i(p) = a A^(g-1) Z^-g R^-g per unit momentum. Per unit rigidity this is
    # K R^-g with K = a Z^(1-g) A^(g-1); per unit momentum per nucleon at equal p/A it is
    # a (p/A)^-g.  Check both identities numerically for He4, g = 2.3.
    g, a, Z, A = 2.3, 0.07, 2, 4
    p = np.array([10.0, 300.0])
    q_p = a * A ** (g - 1) * Z ** (-g) * (p / Z) ** (-g)
    K = rigidity_coefficients(a, Z, A, g)
    assert q_p * Z == pytest.approx(K * (p / Z) ** (-g))  # dp/dR = Z
    assert q_p * A == pytest.approx(a * (p / A) ** (-g))  # dp/dp_n = A
    assert rigidity_coefficients(1.0, 1, 1, g) == pytest.approx(1.0)
    with pytest.raises(InputError, match="gamma"):
        rigidity_coefficients(1.0, 1, 1, np.nan)


def test_lodders_solar_system():
    s = read_solar_system()
    assert s["H1"][1] == pytest.approx(2.431e10)
    si = sum(v[1] for k, v in s.items() if k.startswith("Si"))
    assert si == pytest.approx(1e6, rel=0.01)  # normalisation Si = 1e6
    assert sum(v[0] for k, v in s.items() if k.startswith("Fe")) == pytest.approx(100, abs=0.1)

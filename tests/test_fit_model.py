"""crknee.fit.model: the knee source on fixed components, against analytic limits."""

import astropy.units as u
import numpy as np
import pytest

from crknee.constants import C_KPC_MYR
from crknee.errors import ConfigError, DataError
from crknee.fit.likelihood import Piece
from crknee.fit.model import FixedComponents, KneeSourceModel
from crknee.sources import injection
from crknee.transport import Diffusion
from test_fit_support import TRUTH, synthetic_fixed

V = np.array([list(TRUTH.values())])


def _quiet_fixed():
    """Fixed components 1e-12 below the source: the source alone (dipole limit tests)."""
    f = synthetic_fixed()
    return FixedComponents(f.E_GeV, {"H": 1e-12 * f.flux["H"]}, {})


def test_source_dipole_is_3d_over_2ct_when_it_dominates():
    model = KneeSourceModel(_quiet_fixed())
    ev = model.evaluate(V, [1e6, 1e7])
    delta = np.linalg.norm(ev["dipole"][0], axis=-1)
    expect = 3 * TRUTH["d_kpc"] / (2 * C_KPC_MYR * TRUTH["age_Myr"])
    assert delta == pytest.approx([expect, expect], rel=1e-6)
    # the equatorial amplitude is the projection: <= |delta|
    assert np.all(ev["amplitude"][0] <= delta * (1 + 1e-12))


def test_source_at_galactic_centre_has_the_phase_of_sgr_a():
    v = V.copy()
    v[0, :2] = 0.0
    ev = KneeSourceModel(_quiet_fixed()).evaluate(v, [1e7])
    assert ev["phase"][0, 0] == pytest.approx(266.40, abs=0.05)  # RA of Sgr A* (ICRS)
    v[0, 0] = 180.0
    ev = KneeSourceModel(_quiet_fixed()).evaluate(v, [1e7])
    assert ev["phase"][0, 0] == pytest.approx(86.40, abs=0.05)


def test_source_flux_is_linear_in_the_injected_energy_and_follows_eq_6():
    model = KneeSourceModel(synthetic_fixed())
    E = np.array([1e6, 1e7])
    v2 = V.copy()
    v2[0, 6] += 1.0
    J1 = model.evaluate(V, E)["source:H"][0]
    J2 = model.evaluate(v2, E)["source:H"][0]
    assert J2 == pytest.approx(10 * J1, rel=1e-10)
    # independent evaluation of eq. (5)-(6) for ultra-relativistic protons (R = p ~ E)
    d, t, rc, beta = TRUTH["d_kpc"], TRUTH["age_Myr"], TRUTH["Rcut_PV"] * 1e6, TRUTH["beta"]
    q0 = injection.q0_from_energy(10 ** TRUTH["log10_E_erg"], beta, rc)
    D = Diffusion().kpc2_Myr(E)
    G = np.exp(-d * d / (4 * D * t)) / (4 * np.pi * D * t) ** 1.5 / u.kpc**3
    n = q0 * E**-beta * np.exp(-E / rc) * G / u.GeV
    J = (3e8 * u.m / u.s * n / (4 * np.pi * u.sr)).to_value("m-2 s-1 sr-1 GeV-1")
    assert J1 == pytest.approx(J, rel=1e-3)


def test_bin_and_threshold_rows_are_flux_weighted_means():
    model = KneeSourceModel(synthetic_fixed())
    E = np.logspace(np.log10(2e6), np.log10(8e6), 4001)
    ev = model.evaluate(V, E)
    J = ev["total:all"][0]
    expect = np.trapezoid(J, E) / (E[-1] - E[0])
    vec = np.trapezoid(ev["dipole_flux"][0], E, axis=0) / np.trapezoid(J, E)
    p_flux = Piece("f", "flux", [np.nan], [1.0], [1.0], [1.0], [False], species="all", E_lo_GeV=[2e6], E_hi_GeV=[8e6])
    p_amp = Piece("a", "amplitude", [np.nan], [1.0], [1.0], [1.0], [False], E_lo_GeV=[2e6], E_hi_GeV=[8e6])
    pf, pa = model.bind([p_flux, p_amp])(V)
    assert pf[0, 0] == pytest.approx(expect, rel=1e-4)
    assert pa[0, 0] == pytest.approx(vec, abs=1e-3 * np.abs(vec).max())  # 8-node Gauss-Legendre
    from crknee.anisotropy import equatorial

    assert p_amp.observe(pa)[0, 0] == pytest.approx(equatorial(vec)[0], rel=1e-3)


def test_bind_matches_evaluate_for_point_rows():
    model = KneeSourceModel(synthetic_fixed())
    E = np.array([3e5, 1e6, 5e6])
    ev = model.evaluate(V, E)
    z = np.zeros(3, bool)
    pieces = [
        Piece("p", "flux", E, E, E, E, z, species="H"),
        Piece("l", "flux", E, E, E, E, z, species="light"),
        Piece("a", "amplitude", E, E, E, E, z),
        Piece("ph", "phase", E, E, E, E, z),
    ]
    p, light, a, ph = model.bind(pieces)(V)
    assert p[0] == pytest.approx(ev["total:H"][0])
    assert light[0] == pytest.approx(ev["total:H"][0] + ev["total:He"][0])
    assert a[0] == pytest.approx(ev["dipole"][0])  # the dipole vector; each piece converts it
    assert pieces[2].observe(a)[0] == pytest.approx(ev["amplitude"][0])
    assert pieces[3].observe(ph)[0] == pytest.approx(ev["phase"][0])


def test_non_diffusive_corner_gives_nan():
    v = V.copy()
    v[0, 2], v[0, 3] = 9.0, 0.02  # c t = 6 kpc < d: |delta| > 1
    out = KneeSourceModel(_quiet_fixed()).bind([Piece("a", "amplitude", [1e7], [1.0], [1.0], [1.0], [False])])(v)
    assert np.isnan(out[0][0, 0]).all()


def test_fixed_components_round_trip_and_errors(tmp_path):
    f = synthetic_fixed()
    f2 = FixedComponents(f.E_GeV, f.flux, f.dipole, Diffusion(D0=4e28, delta=0.4))
    f2.save(tmp_path / "fc.h5")
    g = FixedComponents.load(tmp_path / "fc.h5")
    assert g.diffusion == f2.diffusion and np.array_equal(g.flux["He"], f.flux["He"])
    with pytest.raises(DataError, match="unknown element 'Xx'"):
        FixedComponents(f.E_GeV, {"Xx": f.flux["H"]}, {})
    with pytest.raises(DataError, match="increasing"):
        FixedComponents(f.E_GeV[::-1], {"H": f.flux["H"]}, {})
    with pytest.raises(ConfigError, match="fixed components cover"):
        KneeSourceModel(f).bind([Piece("far", "amplitude", [1e12], [1.0], [1.0], [1.0], [False])])
    q = FixedComponents.from_quantities(f.E_GeV * u.GeV, {"H": f.flux["H"] * 1e-4 * u.Unit("cm-2 s-1 sr-1 GeV-1")})
    assert q.flux["H"] == pytest.approx(f.flux["H"])

"""PointSource: flux, dipole, validity guard, halo option, vectorised model, catalogue."""

import warnings

import astropy.units as u
import numpy as np
import pytest

from crknee.anisotropy import equatorial
from crknee.constants import C_KPC_MYR
from crknee.errors import InputError
from crknee.sources.catalogue import NAMED_SOURCES, named_source
from crknee.sources.injection import galprop_composition, q0_from_energy, spectrum_shape
from crknee.sources.model import KneeModel
from crknee.sources.point import FLUX_PER_DENSITY, PointSource, ValidityWarning
from crknee.transport import Diffusion

KNEE = dict(name="knee", l_deg=337.4, b_deg=0.0, d_kpc=2.64, age_Myr=4.82, beta=2.3, Rcut_GV=3e6, energy_erg=1e50)


def test_proton_flux_by_hand():
    s = PointSource(**KNEE)
    E = 1e5  # GeV, proton: R = p, v ~ c
    p = np.sqrt(E**2 - 0.93827208816**2)
    D = Diffusion().kpc2_Myr(p, p / E)
    G = np.exp(-(2.64**2) / (4 * D * 4.82)) / (4 * np.pi * D * 4.82) ** 1.5
    J = FLUX_PER_DENSITY * (p / E) * q0_from_energy(1e50, 2.3, 3e6) * spectrum_shape(p, 2.3, 3e6) * G * E / p
    assert s.lis("H1", E * u.GeV).to_value(u.m**-2 / u.s / u.sr / u.GeV) == pytest.approx(J, rel=1e-12)
    assert FLUX_PER_DENSITY == pytest.approx(2.99792458e8 / (4 * np.pi) / 3.0856776e19**3, rel=1e-6)


def test_burst_dipole_is_3r_over_2ct_towards_source():
    s = PointSource(**KNEE)
    E = np.logspace(3, 7, 5) * u.GeV
    d = s.dipole("H1", E).value
    np.testing.assert_allclose(np.linalg.norm(d, axis=-1), 3 * 2.64 / (2 * C_KPC_MYR * 4.82), rtol=1e-12)
    np.testing.assert_allclose(
        d / np.linalg.norm(d, axis=-1)[:, None], np.tile(s.position_kpc / 2.64, (5, 1)), atol=1e-12
    )


def test_sources_at_centre_and_anticentre_phases():
    E = [1e6] * u.GeV
    gc = PointSource(**{**KNEE, "l_deg": 0.0})
    agc = PointSource(**{**KNEE, "l_deg": 180.0})
    assert equatorial(gc.dipole("all", E).value)[1][0] == pytest.approx(266.40, abs=0.01)
    assert equatorial(agc.dipole("all", E).value)[1][0] == pytest.approx(86.40, abs=0.01)


def test_modulation_only_matters_at_low_energy():
    s = PointSource(**{**KNEE, "d_kpc": 0.25, "age_Myr": 0.34, "Rcut_GV": 3e4})
    E = np.array([3.0, 1e4]) * u.GeV
    ratio = (s.flux("H1", E) / s.lis("H1", E)).value
    assert ratio[0] < 0.8 and ratio[1] == pytest.approx(1.0, abs=1e-3)


def test_all_is_sum_of_species():
    s = PointSource(**{**KNEE, "composition": galprop_composition()})
    E = np.logspace(4, 7, 4) * u.GeV
    total = sum(s.lis(sp, E) for sp in galprop_composition().species)
    np.testing.assert_allclose(s.lis("all", E).value, total.value, rtol=1e-12)
    np.testing.assert_allclose(s.lis("He", E).value, s.lis("He4", E).value, rtol=1e-14)


def test_ss433_like_source_is_flagged():
    s = PointSource(
        name="SS433-like",
        l_deg=39.7,
        b_deg=-2.2,
        d_kpc=5.5,
        age_Myr=0.030,
        beta=2.5,
        Rcut_GV=1e7,
        luminosity_erg_s=1e39,
        mode="continuous",
    )
    E = [1e5] * u.GeV
    with pytest.warns(ValidityWarning, match="invalid"):
        d = s.dipole("H1", E)
    assert np.linalg.norm(d.value) > 0.5
    assert not s.valid("H1", E)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PointSource(**KNEE).valid("H1", E)[0]


@pytest.mark.parametrize(
    "field,value,msg",
    [
        ("d_kpc", -1.0, "distance"),
        ("age_Myr", -0.1, "age"),
        ("b_deg", 91.0, "latitude"),
        ("beta", 0.0, "beta"),
        ("Rcut_GV", 0.0, "Rcut"),
        ("energy_erg", -1.0, "energy"),
        ("mode", "pulsed", "mode"),
    ],
)
def test_bad_input(field, value, msg):
    with pytest.raises(InputError, match=msg):
        PointSource(**{**KNEE, field: value})


def test_halo_limit_and_suppression():
    near = dict(KNEE, d_kpc=0.25, age_Myr=0.05)
    E = np.array([1e3, 1e4]) * u.GeV  # sigma ~ 0.5 kpc << H
    free, halo = PointSource(**near).lis("H1", E), PointSource(**near, halo_kpc=4.5).lis("H1", E)
    np.testing.assert_allclose(halo.value, free.value, rtol=1e-6)
    Ek = [1e6] * u.GeV  # knee: sigma ~ 10 kpc > H
    r = (PointSource(**KNEE, halo_kpc=4.5).lis("H1", Ek) / PointSource(**KNEE).lis("H1", Ek)).value[0]
    assert 0 < r < 0.1


def test_vectorised_model_matches_point_source():
    comp = galprop_composition()
    Ef, Ea = np.logspace(3, 8, 30), np.logspace(4, 8, 10)
    m = KneeModel(Ef, Ea, ("H1", "He", "all"))
    P = np.array([[337.4, 0.0, 2.64, 4.82, 3e6, 2.3, 1e50], [120.0, 3.0, 1.5, 2.0, 5e6, 2.6, 3e49]])
    res = m(*P.T)
    for w, (l, b, d, t, rc, beta, W) in enumerate(P):
        s = PointSource("x", l, b, d, t, beta, rc, energy_erg=W, composition=comp)
        for name in ("H1", "He", "all"):
            np.testing.assert_allclose(res.flux[name][w], s.lis(name, Ef * u.GeV).value, rtol=1e-6)
        np.testing.assert_allclose(res.flux_all[w], s.lis("all", Ea * u.GeV).value, rtol=1e-6)
        np.testing.assert_allclose(res.dipole[w], s.dipole("all", Ea * u.GeV).value, rtol=1e-12, atol=1e-15)
        assert res.valid[w].all()
    with pytest.raises(InputError, match="latitude"):
        m(0.0, 95.0, 1.0, 1.0, 1e6, 2.0, 1e50)


def test_catalogue_entries():
    assert set(NAMED_SOURCES) == {"SS 433", "V4641 Sgr", "GRS 1915+105", "MAXI J1820+070", "Cyg X-1", "Geminga SNR"}
    assert NAMED_SOURCES["SS 433"].age_Myr == 0.020
    assert all(NAMED_SOURCES[n].age_Myr == 1.0 for n in ("V4641 Sgr", "GRS 1915+105", "MAXI J1820+070", "Cyg X-1"))
    assert 90 < NAMED_SOURCES["Geminga SNR"].l_deg < 270  # anti-centre hemisphere
    for e in NAMED_SOURCES.values():
        assert e.d_lo_kpc <= e.d_kpc <= e.d_hi_kpc and e.distance_ref and e.position_ref
    s = named_source("V4641 Sgr")
    assert s.mode == "continuous" and s.luminosity_erg_s == 5e38 and s.beta == 2.2
    with pytest.raises(InputError, match="Table 2"):
        named_source("Cyg X-1")
    with pytest.raises(InputError, match="unknown"):
        named_source("Vela")


def test_halo_source_must_be_inside():
    with pytest.raises(InputError, match="outside the halo"):
        PointSource(**{**KNEE, "b_deg": 80.0, "d_kpc": 6.0}, halo_kpc=4.5)
    with pytest.raises(InputError, match="halo half-height"):
        PointSource(**KNEE, halo_kpc=-1.0)


def test_vectorised_halo_model_matches_point_source():
    from crknee.sources.model import knee_model

    comp = galprop_composition()
    Ef, Ea = np.logspace(3, 7, 6), np.logspace(4, 7, 4)
    P = np.array([[337.4, 2.0, 2.64, 4.82, 3e6, 2.3, 1e50], [120.0, -4.0, 1.5, 2.0, 5e6, 2.6, 3e49]])
    res = knee_model(Ef, Ea, *P.T, species=("H1", "all"), halo_kpc=4.5)
    for w, (l, b, d, t, rc, beta, W) in enumerate(P):
        s = PointSource("x", l, b, d, t, beta, rc, energy_erg=W, composition=comp, halo_kpc=4.5)
        np.testing.assert_allclose(res.flux["H1"][w], s.lis("H1", Ef * u.GeV).value, rtol=1e-6)
        np.testing.assert_allclose(res.flux_all[w], s.lis("all", Ea * u.GeV).value, rtol=1e-6)
        np.testing.assert_allclose(res.dipole[w], s.dipole("all", Ea * u.GeV).value, rtol=1e-6, atol=1e-12)


def test_species_first_as_the_background_solution():
    """One argument order (issue 14): ``source.lis(name, E)`` as ``Solution.lis(name, E)``;
    the former ``lis(E, name)`` gives the same numbers with a DeprecationWarning."""
    s = PointSource(**KNEE)
    E = np.geomspace(1e4, 1e7, 4) * u.GeV
    new = s.lis("H1", E)
    with pytest.warns(DeprecationWarning, match=r"lis\(name, E\)"):
        old = s.lis(E, "H1")
    np.testing.assert_array_equal(new.value, old.value)
    with pytest.warns(DeprecationWarning, match=r"flux\(name, E\)"):
        np.testing.assert_array_equal(s.flux(E).value, s.flux("all", E).value)
    with pytest.raises(InputError, match="energies E are missing"):
        s.dipole("H1")


def test_point_source_of_a_solution_shares_its_diffusion_and_halo():
    """``solution.point_source(...)`` propagates in the background's environment: a
    background with D0 = 4e28 cm^2/s and H = 6 kpc gives a source with the same D0 and H
    (issue 14: a bare PointSource keeps Table 1's D0 = 3.2e28), hence the same flux as a
    PointSource built with that Diffusion and halo by hand."""
    from crknee.propagation import Q_UNIT, PropagationModel, Solution

    model = PropagationModel(D0=4e28 * u.cm**2 / u.s, delta=0.4, H=6.0 * u.kpc)
    background = Solution(model=model, nuclides=(), raw=None, norms=np.ones(3) * Q_UNIT)
    params = {k: v for k, v in KNEE.items() if k not in ("name", "halo_kpc", "diffusion")}
    src = background.point_source("knee", **params)
    assert src.diffusion == Diffusion(D0=4e28, delta=0.4) and src.halo_kpc == pytest.approx(6.0)
    assert src.diffusion != PointSource(**KNEE).diffusion
    by_hand = PointSource(**{**KNEE, "diffusion": Diffusion(D0=4e28, delta=0.4), "halo_kpc": 6.0})
    E = np.geomspace(1e4, 1e7, 4) * u.GeV
    np.testing.assert_array_equal(src.lis("H1", E).value, by_hand.lis("H1", E).value)
    with pytest.raises(InputError, match="halo_kpc from the background"):
        background.point_source("knee", **params, halo_kpc=4.0)

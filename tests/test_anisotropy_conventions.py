"""What each experiment measured: the r1 / d_perp factor of an array, checked against
analytic limits, an independent integration of a dipole sky in the array's local frame,
and simulated event skies (crknee.anisotropy.conventions, crknee.anisotropy.sky)."""

import numpy as np
import pytest

from crknee.anisotropy.conventions import (
    CONVENTIONS,
    Convention,
    exposure_moments,
    mean_cos_dec,
)
from crknee.anisotropy.dipole import equatorial, galactic_to_icrs_matrix, unit_vector
from crknee.anisotropy.sky import rayleigh, simulate_sky
from crknee.errors import DataError, InputError

# (latitude, zenith cut) [deg]: equator with the whole sky, KASCADE-Grande-like
# (Karlsruhe, theta < 40 deg), Auger-like (Malargue, theta < 60 deg), South-Pole-like.
SITES = [(0.0, 90.0), (49.1, 40.0), (-35.2, 60.0), (-90.0, 65.0), (30.0, 20.0)]


def icrs_to_gal(v_icrs):
    return np.asarray(v_icrs, dtype=float) @ galactic_to_icrs_matrix()


def local_frame_harmonic(lat_deg, zen_deg, delta_icrs, acceptance="cos", n_theta=64, n_az=512, n_lst=8):
    """Expected Rayleigh vector (2 <cos RA>, 2 <sin RA>) of a dipole sky, integrated in the
    array's horizontal frame: zenith angle (Gauss-Legendre), azimuth and sidereal time
    (periodic trapezoid), events weighted by acceptance x sin(theta) x (1 + delta . n).
    Converges algebraically in azimuth where the celestial pole is in view (RA is
    undefined there): 512 azimuths give ~5e-8, the tests ask 2e-7.
    No Sommers exposure involved."""
    x, w = np.polynomial.legendre.leggauss(n_theta)
    zr = np.radians(zen_deg)
    theta = 0.5 * zr * (x + 1.0)
    w_theta = 0.5 * zr * w * np.sin(theta) * (np.cos(theta) if acceptance == "cos" else 1.0)
    az = np.arange(n_az) * 2.0 * np.pi / n_az
    lst = np.arange(n_lst) * 2.0 * np.pi / n_lst
    T, A, L = np.meshgrid(theta, az, lst, indexing="ij")
    W = np.broadcast_to(w_theta[:, None, None], T.shape)
    lat = np.radians(lat_deg)
    sin_dec = np.sin(lat) * np.cos(T) + np.cos(lat) * np.sin(T) * np.cos(A)
    cos_dec = np.sqrt(1.0 - sin_dec**2)
    h = np.arctan2(-np.sin(T) * np.sin(A), np.cos(lat) * np.cos(T) - np.sin(lat) * np.sin(T) * np.cos(A))
    ra = L - h
    d = np.asarray(delta_icrs, dtype=float)
    intensity = 1.0 + d[0] * cos_dec * np.cos(ra) + d[1] * cos_dec * np.sin(ra) + d[2] * sin_dec
    norm = np.sum(W * intensity)
    return 2.0 * np.sum(W * intensity * np.cos(ra)) / norm, 2.0 * np.sum(W * intensity * np.sin(ra)) / norm


def test_analytic_limits():
    # equator, whole sky: omega ~ cos(dec) -> <cos dec> = int cos^3 / int cos^2 = 8 / (3 pi)
    assert mean_cos_dec(0.0, 90.0) == pytest.approx(8.0 / (3.0 * np.pi), rel=1e-12)
    # a theta-independent acceptance there is a uniform exposure of the sky: pi / 4
    assert mean_cos_dec(0.0, 90.0, acceptance="flat") == pytest.approx(np.pi / 4.0, rel=1e-12)
    # a pole: omega ~ cos(theta) = |sin dec| down to theta_max -> (2/3) sin(theta_max)
    for zen in (30.0, 65.0, 90.0):
        for lat in (-90.0, 90.0):
            assert mean_cos_dec(lat, zen) == pytest.approx(2.0 / 3.0 * np.sin(np.radians(zen)), rel=1e-10)


def test_hemisphere_symmetry():
    for lat, zen in [(49.1, 40.0), (35.2, 60.0), (75.0, 80.0)]:
        (cn, sn), (cs, ss) = exposure_moments(lat, zen), exposure_moments(-lat, zen)
        assert cn == pytest.approx(cs, rel=1e-12) and sn == pytest.approx(-ss, rel=1e-12)
        assert 0.0 < cn < 1.0 and sn > 0.0


@pytest.mark.parametrize("lat,zen", SITES)
@pytest.mark.parametrize("acceptance", ["cos", "flat"])
def test_factor_against_local_frame_integration(lat, zen, acceptance):
    c, _ = exposure_moments(lat, zen, acceptance)
    # a small equatorial dipole: r1 / d_perp -> <cos dec>
    d = 1e-3 * np.array([np.cos(1.0), np.sin(1.0), 0.0])
    a, b = local_frame_harmonic(lat, zen, d, acceptance)
    assert np.hypot(a, b) / 1e-3 == pytest.approx(c, rel=2e-7)
    assert np.degrees(np.arctan2(b, a)) == pytest.approx(np.degrees(1.0), abs=1e-9)
    if acceptance == "cos":
        assert Convention("r1", lat, zen).factor == pytest.approx(c, rel=1e-14)


@pytest.mark.parametrize("lat,zen", SITES)
def test_exact_amplitude_with_dz_against_local_frame_integration(lat, zen):
    # a large dipole out of the equator: the d_z <sin dec> denominator matters
    d_icrs = 0.6 * np.array(
        [np.cos(np.radians(40)) * np.cos(2.5), np.cos(np.radians(40)) * np.sin(2.5), np.sin(np.radians(40))]
    )
    a, b = local_frame_harmonic(lat, zen, d_icrs)
    conv = Convention("r1", lat, zen)
    v_gal = icrs_to_gal(d_icrs)
    assert conv.amplitude(v_gal) == pytest.approx(np.hypot(a, b), rel=2e-7)
    assert conv.phase(v_gal) == pytest.approx(np.degrees(2.5), abs=1e-9)


def test_factor_against_simulated_skies():
    rng = np.random.default_rng(16)
    lat, zen = 49.1, 40.0
    conv = Convention("r1", lat, zen)
    n = 400_000
    for d_icrs in ([0.2 * np.cos(4.0), 0.2 * np.sin(4.0), 0.0], [0.15, -0.1, 0.35]):
        ra, _ = simulate_sky(rng, n, d_icrs, lat, zen)
        r = rayleigh(ra)
        v_gal = icrs_to_gal(d_icrs)
        expect = conv.amplitude(v_gal)
        assert abs(r.amplitude - expect) < 4.0 * r.sigma  # MC error sqrt(2/N) = 0.0022
        dphi = (r.phase_deg - conv.phase(v_gal) + 180.0) % 360.0 - 180.0
        assert abs(dphi) < np.degrees(4.0 * r.sigma / expect)
    # d_z = 0: amplitude / d_perp is the factor itself
    ra, _ = simulate_sky(rng, n, [0.2 * np.cos(4.0), 0.2 * np.sin(4.0), 0.0], lat, zen)
    assert abs(rayleigh(ra).amplitude / 0.2 - conv.factor) < 4.0 * np.sqrt(2.0 / n) / 0.2


def test_simulated_isotropic_sky_follows_exposure():
    rng = np.random.default_rng(3)
    lat, zen = -35.2, 60.0
    ra, dec = simulate_sky(rng, 200_000, [0.0, 0.0, 0.0], lat, zen)
    c, s = exposure_moments(lat, zen)
    err = 1.0 / np.sqrt(ra.size)
    assert abs(np.mean(np.cos(np.radians(dec))) - c) < 5 * err
    assert abs(np.mean(np.sin(np.radians(dec))) - s) < 5 * err
    assert np.max(np.abs(dec - lat)) <= zen + 1e-9  # nothing beyond the zenith cut
    r = rayleigh(ra)
    assert r.amplitude < 4.0 * r.sigma  # isotropic in RA


def test_phase_is_ra_of_the_dipole_and_limits():
    v = unit_vector([0.0, 180.0, 90.0, 33.0], [0.0, 0.0, 0.0, 20.0]) * 0.01
    amp, ra = equatorial(v)
    for kind in CONVENTIONS:
        conv = Convention(kind, 49.1, 40.0)
        assert np.allclose(conv.phase(v), ra, atol=1e-12)
    gc = Convention("d_perp").phase(unit_vector(0.0, 0.0))
    assert float(gc) == pytest.approx(266.40, abs=0.01)  # Galactic centre RA
    assert np.allclose(Convention("d_perp").amplitude(v), amp)
    assert np.allclose(Convention("r1_dec0").amplitude(v), amp)
    assert np.allclose(Convention("d_3d").amplitude(v), 0.01)
    assert np.all(Convention("d_3d").amplitude(v) >= Convention("d_perp").amplitude(v))
    pole = icrs_to_gal([0.0, 0.0, 0.3])  # along the celestial pole
    assert Convention("d_perp").amplitude(pole) == pytest.approx(0.0, abs=1e-15)
    assert Convention("r1", 49.1, 40.0).amplitude(pole) == pytest.approx(0.0, abs=1e-15)
    assert Convention("d_3d").amplitude(pole) == pytest.approx(0.3)
    in_plane = icrs_to_gal([0.3, 0.4, 0.0])
    assert Convention("d_3d").amplitude(in_plane) == pytest.approx(Convention("d_perp").amplitude(in_plane))
    # factors and flags
    assert Convention("d_perp").factor == 1.0 and Convention("r1_dec0").factor == 1.0
    assert not Convention("d_perp").approximate and not Convention("d_3d").approximate
    assert Convention("r1", 0.0, 90.0).approximate and Convention("r1_dec0").approximate
    with pytest.raises(InputError, match="d_3d"):
        Convention("d_3d").factor  # noqa: B018 (the property access is what raises)
    # |delta| > 1 with 1 + d_z <sin dec> <= 0: no valid sky -> NaN, not a number
    assert np.isnan(Convention("r1", 89.0, 30.0).amplitude(icrs_to_gal([0.1, 0.0, -1.5])))


def test_from_meta():
    meta = {
        "convention": "r1",
        "site_latitude_deg": 49.1,
        "zenith_max_deg": "40",
        "convention_reference": "Apel et al. 2019",
    }
    conv = Convention.from_meta(meta, "anisotropy/kg")
    assert conv == Convention("r1", 49.1, 40.0, "Apel et al. 2019")
    assert Convention.from_meta({"convention": "d_perp"}, "x").kind == "d_perp"
    with pytest.raises(DataError, match=r"anisotropy/x.*'convention' is missing"):
        Convention.from_meta({}, "anisotropy/x")
    with pytest.raises(DataError, match=r"anisotropy/x.*'convention'.*'r2'"):
        Convention.from_meta({"convention": "r2"}, "anisotropy/x")
    with pytest.raises(DataError, match=r"anisotropy/x.*'zenith_max_deg'"):
        Convention.from_meta({"convention": "r1", "site_latitude_deg": 49.1}, "anisotropy/x")
    with pytest.raises(DataError, match=r"anisotropy/x.*'site_latitude_deg'.*'north'"):
        Convention.from_meta({"convention": "r1", "site_latitude_deg": "north", "zenith_max_deg": 40}, "anisotropy/x")
    with pytest.raises(DataError, match=r"anisotropy/x.*latitude.*95"):
        Convention.from_meta({"convention": "r1", "site_latitude_deg": 95, "zenith_max_deg": 40}, "anisotropy/x")


@pytest.mark.parametrize(
    "lat,zen,match",
    [
        (91.0, 40.0, "latitude.*91"),
        (-90.5, 40.0, "latitude.*-90.5"),
        (np.nan, 40.0, "latitude.*nan"),
        (10.0, 0.0, "zenith_max.*0.0"),
        (10.0, 95.0, "zenith_max.*95"),
        ("x", 40.0, "number.*'x'"),
    ],
)
def test_bad_site(lat, zen, match):
    with pytest.raises(InputError, match=match):
        mean_cos_dec(lat, zen)
    with pytest.raises(InputError, match=match):
        Convention("r1", lat, zen)


def test_bad_convention_and_sky_input():
    with pytest.raises(InputError, match="'r2'"):
        Convention("r2")
    with pytest.raises(InputError, match="needs the site"):
        Convention("r1", 49.1)
    with pytest.raises(InputError, match="acceptance.*'cone'"):
        mean_cos_dec(0.0, 60.0, acceptance="cone")
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match=r"\|delta\| = 1.2"):
        simulate_sky(rng, 10, [1.2, 0.0, 0.0], 0.0, 60.0)
    with pytest.raises(InputError, match="Generator"):
        simulate_sky(np.random.RandomState(0), 10, [0.0, 0.0, 0.0], 0.0, 60.0)
    with pytest.raises(InputError, match="latitude.*100"):
        simulate_sky(rng, 10, [0.0, 0.0, 0.0], 100.0, 60.0)

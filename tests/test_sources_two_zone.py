"""Two-zone diffusion (crknee.sources.two_zone): exact limits, conservation, steady state."""

import numpy as np
import pytest
from numpy.polynomial.legendre import leggauss
from scipy.special import erf

from crknee.errors import InputError
from crknee.sources import greens
from crknee.sources import two_zone as tz

A, T = 0.1, 1.0
D = np.array([1e-3, 0.01, 0.1, 1.0, 10.0])


def test_talbot_inverts_known_transforms():
    t = np.array([0.01, 0.3, 2.0, 40.0])
    np.testing.assert_allclose(
        tz.invert(lambda s: 1.0 / (s + 1.0), t), np.exp(-t), rtol=1e-10, atol=1e-12
    )  # round-off ~1e-13 of the largest term
    np.testing.assert_allclose(
        tz.invert(lambda s: np.exp(-np.sqrt(s)) / s, t), 1.0 - erf(1.0 / (2.0 * np.sqrt(t))), rtol=1e-9, atol=1e-14
    )
    with pytest.raises(InputError, match="t_Myr"):
        tz.invert(lambda s: 1.0 / s, [0.0])


def test_chi_one_is_the_one_zone_solution():
    """chi = 1: free space -- the fraction inside a sphere, eq. (6) and its time integral."""
    x = A / np.sqrt(4.0 * D * T)
    exact_in = erf(x) - 2.0 * x * np.exp(-x * x) / np.sqrt(np.pi)
    np.testing.assert_allclose(tz.inside(A, T, D, 1.0), exact_in, rtol=1e-5, atol=1e-12)
    for mode in ("burst", "continuous"):
        dens = greens.KERNELS[mode][0]
        np.testing.assert_allclose(tz.surface_density(A, T, D, 1.0, mode), dens(A, T, D), rtol=1e-8)
        d = 6.2  # V4641 Sgr: down to 1e-44 of the peak, still to 1e-9 relative
        np.testing.assert_allclose(tz.density_at(d, A, T, D[2:], 1.0, mode), dens(d, T, D[2:]), rtol=1e-9)


@pytest.mark.parametrize("chi", [1e-3, 0.1, 0.5, 3.0])
def test_matching_conditions_conserve_particles_in_laplace_space(chi):
    """N_in computed by integrating n1 over r < a equals 1/s - N_out (flux continuity)."""
    s = np.array([0.05, 1.0, 20.0 + 5.0j])[:, None]
    Dg = 0.3
    D1 = chi * Dg
    k1 = np.sqrt(s / D1)
    beta, _ = tz._beta(s, A, D1, Dg)
    two_alpha = (beta - np.exp(-k1 * A)) / np.sinh(k1 * A)
    x, w = leggauss(200)
    r = 0.5 * A * (x + 1.0)
    n1 = (np.exp(-k1 * r) + two_alpha * np.sinh(k1 * r)) / (4.0 * np.pi * D1 * r)
    direct = 0.5 * A * np.sum(w * 4.0 * np.pi * r * r * n1, axis=-1)
    np.testing.assert_allclose(direct, tz.inside_transform(s, A, Dg, chi)[:, 0], rtol=1e-10)


@pytest.mark.parametrize("chi", [0.05, 0.5])
def test_particle_number_is_conserved_in_time(chi):
    """Particles inside + particles outside (density integrated over r > a) = 1 (burst)."""
    Dg, t = 0.05, 0.2
    n_in = tz.inside(A, t, Dg, chi)
    L = 12.0 * np.sqrt(4.0 * Dg * t)
    x, w = leggauss(160)
    r = A + 0.5 * L * (x + 1.0)
    n_out = 0.5 * L * np.sum(w * 4.0 * np.pi * r * r * tz.density_at(r, A, t, Dg, chi))
    assert 0.0 < n_in < 1.0
    assert n_in + n_out == pytest.approx(1.0, abs=1e-7)


def test_continuous_is_the_time_integral_of_the_burst():
    chi, Dg, t = 0.1, 0.3, 0.5
    x, w = leggauss(80)
    ts = 0.5 * t * (x + 1.0)
    burst = tz.inside(A, ts, Dg, chi)
    assert tz.inside(A, t, Dg, chi, "continuous") == pytest.approx(0.5 * t * np.sum(w * burst), rel=1e-8)


@pytest.mark.parametrize("chi", [1e-2, 0.2, 1.0, 5.0])
def test_steady_state_residence_time(chi):
    """Continuous injection for t >> a^2 / D1: N_in = a^2 [1 / (6 D1) + 1 / (3 D2)] (exact
    steady state of the two-zone problem; a^2 / (2 D) for chi = 1)."""
    Dg = 0.02
    t = 1e4 * A * A / (chi * Dg)
    expected = A * A * (1.0 / (6.0 * chi * Dg) + 1.0 / (3.0 * Dg))
    assert tz.inside(A, t, Dg, chi, "continuous") == pytest.approx(expected, rel=2e-2)


def test_chi_to_zero_is_full_confinement():
    np.testing.assert_allclose(tz.inside(A, T, D, 1e-9), 1.0, rtol=1e-9)
    np.testing.assert_allclose(tz.inside(A, T, D, 1e-9, "continuous"), T, rtol=1e-9)
    far = tz.density_at(3.0, A, T, 1.0, 1e-6, "continuous")
    assert far < 1e-6 * tz.density_at(3.0, A, T, 1.0, 1.0, "continuous")
    chis = np.geomspace(1e-4, 1.0, 9)
    assert np.all(np.diff(tz.inside(A, T, 0.5, chis, "continuous")) < 0)  # slower inside: more kept


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="chi"):
        tz.inside(A, T, 1.0, 0.0)
    with pytest.raises(InputError, match="mode"):
        tz.inside(A, T, 1.0, 0.5, "steady")
    with pytest.raises(InputError, match="d_kpc"):
        tz.density_at(0.05, A, T, 1.0, 0.5)

"""The likelihood of a measured first harmonic (crknee.fit.harmonic): exact identities
(Rice = phase marginal of the 2D Gaussian, von Mises conditional), limits, the upper-limit
term, and the coverage of its 68 % intervals on simulated dipole skies (crknee.anisotropy.sky).
"""

import os

import numpy as np
import pytest
from scipy import integrate, stats

from crknee.anisotropy.conventions import Convention, exposure_moments
from crknee.anisotropy.dipole import galactic_to_icrs_matrix
from crknee.anisotropy.sky import rayleigh, simulate_sky
from crknee.errors import InputError
from crknee.fit.harmonic import (
    amplitude_interval,
    log_like_phase,
    log_like_rice,
    log_like_upper_limit,
    log_like_vector,
    rice_log_cdf,
    sigma_of_row,
    sigma_of_upper_limit,
    vector_threshold,
)

REDUCED = os.environ.get("CRKNEE_REDUCED") == "1"
CASES = [(0.3, 0.0, 1.0), (0.02, 0.05, 0.03), (2.5, 2.0, 0.7), (1e-3, 4e-3, 1e-3), (0.0, 0.5, 0.2)]


@pytest.mark.parametrize("a,nu,sigma", CASES)
def test_phase_marginal_of_vector_is_rice(a, nu, sigma):
    phi = np.linspace(0.0, 360.0, 4096, endpoint=False)  # periodic: trapezoid is spectral
    ll = log_like_vector(a, phi, sigma, nu, 37.0)
    marginal = np.exp(ll).sum() * 2.0 * np.pi / phi.size  # int p(v) dphi
    assert marginal == pytest.approx(np.exp(log_like_rice(a, sigma, nu)), rel=1e-10)
    if a > 0:
        rice_pdf = stats.rice.pdf(a / sigma, nu / sigma) / sigma
        assert a * marginal == pytest.approx(rice_pdf, rel=1e-10)
    # vector = amplitude x phase-given-amplitude (von Mises), exactly
    assert np.allclose(ll, log_like_rice(a, sigma, nu) + log_like_phase(phi, a, sigma, nu, 37.0), rtol=0, atol=1e-12)


def test_vector_density_normalised_and_von_mises():
    # the 2D Gaussian integrates to 1 over the plane (polar grid)
    val = integrate.dblquad(
        lambda phi, a: a * np.exp(log_like_vector(a, np.degrees(phi), 0.4, 0.7, 50.0)),
        0.0,
        5.0,
        0.0,
        2.0 * np.pi,
        epsabs=1e-11,
    )[0]
    assert val == pytest.approx(1.0, abs=1e-9)
    phi = np.linspace(-180.0, 180.0, 7)
    kappa = 0.8 * 0.5 / 0.3**2
    assert np.allclose(
        np.exp(log_like_phase(phi, 0.8, 0.3, 0.5, 20.0)), stats.vonmises.pdf(np.radians(phi - 20.0), kappa), rtol=1e-12
    )
    assert np.allclose(log_like_phase(phi, 0.8, 0.3, 0.0, 20.0), -np.log(2 * np.pi))  # no amplitude: uniform


def test_circular_phase():
    base = log_like_vector(0.01, 350.0, 0.003, 0.012, 10.0)
    for shifted_obs, shifted_model in [(-10.0, 10.0), (350.0, -350.0), (710.0, 370.0), (-370.0, 10.0)]:
        assert log_like_vector(0.01, shifted_obs, 0.003, 0.012, shifted_model) == pytest.approx(base, abs=1e-12)
    # 20 deg apart across the 0/360 seam is closer than 60 deg apart inside the circle
    assert base > log_like_vector(0.01, 290.0, 0.003, 0.012, 10.0)


def test_rice_reduces_to_gaussian_far_above_sigma():
    sigma, a = 1e-3, 0.2  # a = 200 sigma
    nu = a + sigma * np.linspace(-3.0, 3.0, 13)
    d_rice = log_like_rice(a, sigma, nu) - log_like_rice(a, sigma, a)
    assert np.allclose(d_rice, -0.5 * ((a - nu) / sigma) ** 2, atol=0.02)  # O(sigma/a) in Delta ln L
    pdf = a * np.exp(log_like_rice(a, sigma, nu))
    assert np.allclose(pdf, stats.norm.pdf(a, nu, sigma), rtol=0.02)
    # and is far from Gaussian at low significance: the MLE is nu = 0 for a < sqrt(2) sigma
    grid = np.linspace(0.0, 3.0, 3001)
    assert grid[np.argmax(log_like_rice(1.2, 1.0, grid))] == 0.0
    assert grid[np.argmax(log_like_rice(2.0, 1.0, grid))] > 1.0


def test_never_nan():
    bad = np.array([[np.nan, np.inf, -0.1, 0.0, 0.02]])
    ph = np.array([[10.0, 10.0, 10.0, np.nan, 10.0]])
    for ll in (
        log_like_vector(0.01, 20.0, 0.003, bad, ph),
        log_like_rice(0.01, 0.003, bad),
        log_like_phase(20.0, 0.01, 0.003, bad, ph),
        log_like_upper_limit(0.01, 0.99, bad),
    ):
        assert not np.any(np.isnan(ll))
        assert np.all(ll[0, :3] == -np.inf) and np.isfinite(ll[0, 4])
    assert np.isfinite(log_like_rice(0.0, 0.003, 0.01)) and np.isfinite(log_like_rice(0.01, 0.003, 1e3))
    assert np.isfinite(log_like_vector(0.01, 20.0, 0.003, 1e3, 200.0))


def test_upper_limit_term():
    for cl in (0.68, 0.95, 0.99):
        s = sigma_of_upper_limit(0.01, cl)
        # Rayleigh construction: an isotropic sky exceeds the limit with probability 1 - CL
        assert stats.rayleigh.sf(0.01 / s) == pytest.approx(1.0 - cl, rel=1e-12)
        nu = np.linspace(0.0, 200.0, 200_001) * s  # 0.001 sigma steps to 200 sigma
        ll = log_like_upper_limit(0.01, cl, nu)
        assert ll[0] == pytest.approx(np.log(cl), rel=1e-12)  # P(a <= a_ul | 0) = CL
        assert np.all(np.isfinite(ll)) and np.all(np.diff(ll) < 0)  # proper, strictly decreasing
        # far above the limit ~ Gaussian tail of the amplitude
        assert ll[-1] == pytest.approx(stats.norm.logcdf(0.01 / s - 200.0), rel=0.01)
    # the Rice CDF against a direct integral of the pdf, through the switch to the tail expansion
    for x, nu in [(1.5, 0.0), (3.03, 2.0), (3.03, 8.0), (1.51, 16.0), (3.03, 20.0), (2.45, 30.0), (3.03, 40.0)]:
        direct = integrate.quad(
            lambda t: stats.rice.pdf(t, nu) if nu > 0 else stats.rayleigh.pdf(t),
            0.0,
            x,
            epsabs=0.0,
            epsrel=1e-13,
            limit=200,
        )[0]
        assert float(rice_log_cdf(x, nu)) == pytest.approx(np.log(direct), abs=5e-4)
    with pytest.raises(InputError, match="1.2"):
        log_like_upper_limit(0.01, 1.2, 0.0)


def test_sigma_of_row():
    s = sigma_of_row(
        [1e-3, 1e-3, 2.6e-4, np.nan],
        [1e-3, 3e-3, 3.5e-4, np.nan],
        [0.01, 0.01, 2.6e-4, 0.02],
        [5.7, 5.7, 0.0, 10.0],
        amp_err_lo_reaches_zero=[False, False, True, False],
    )
    assert np.allclose(s, [1e-3, 2e-3, 3.5e-4, 0.02 * np.radians(10.0)])
    # a limit-only row (no measured amplitude) has no sigma of its own
    assert np.isnan(sigma_of_row([np.nan], [np.nan], [np.nan], [np.nan]))[0]
    with pytest.raises(InputError, match="row 1"):
        sigma_of_row([1e-3, np.nan], [1e-3, np.nan], [0.01, 0.01], [5.0, 10.0], phase_err_missing=[False, True])


def test_coverage_on_simulated_skies():
    """68.27 % intervals on Rayleigh-analysed skies of a KASCADE-Grande-like array.

    (1) the likelihood-ratio region of the 2D harmonic vector, -2 Delta ln L <= 2.30
    (log_like_vector, sigma from the published-style errors via sigma_of_row);
    (2) Feldman-Cousins Neyman intervals on the amplitude alone (Rice).
    Truth: the r1 vector of the dipole through Convention("r1") (d_z included)."""
    cl, n_events = 0.6827, 400
    n_skies = 2000 if REDUCED else 4000
    binomial = np.sqrt(cl * (1.0 - cl) / n_skies)
    assert 0.03 >= 2.8 * binomial  # the +-3 % window is >= 2.8 binomial sigma
    lat, zen = 49.1, 40.0
    conv = Convention("r1", lat, zen)
    c, s_mean = exposure_moments(lat, zen)
    sigma_true = np.sqrt(2.0 / n_events)
    rng = np.random.default_rng(20260316)
    dec_d, ra_d = np.radians(20.0), np.radians(100.0)
    for k_sigma in (0.0, 1.0, 3.0):
        nu = k_sigma * sigma_true
        d_perp = nu / (c - nu * np.tan(dec_d) * s_mean)  # so that r1 = nu with the d_z term
        d_icrs = np.array([d_perp * np.cos(ra_d), d_perp * np.sin(ra_d), d_perp * np.tan(dec_d)])
        v_gal = d_icrs @ galactic_to_icrs_matrix()
        nu_true, ph_true = float(conv.amplitude(v_gal)), float(conv.phase(v_gal))
        assert nu_true == pytest.approx(nu, abs=1e-3 * sigma_true)
        ra, _ = simulate_sky(rng, n_events, d_icrs, lat, zen, n_skies=n_skies)
        r = rayleigh(ra)
        sig = sigma_of_row(r.sigma, r.sigma, r.amplitude, np.degrees(r.sigma / np.maximum(r.amplitude, 1e-12)))
        lr = -2.0 * (
            log_like_vector(r.amplitude, r.phase_deg, sig, nu_true, ph_true)
            - log_like_vector(r.amplitude, r.phase_deg, sig, r.amplitude, r.phase_deg)
        )
        cover_vec = np.mean(lr <= vector_threshold(cl))
        lo, hi = amplitude_interval(r.amplitude, sig, cl)
        cover_amp = np.mean((lo <= nu_true) & (nu_true <= hi))
        print(
            f"truth {k_sigma:.0f} sigma: vector LR {cover_vec:.4f}, FC amplitude {cover_amp:.4f} "
            f"(n = {n_skies}, binomial sigma {binomial:.4f})"
        )
        assert abs(cover_vec - cl) < 0.03
        assert abs(cover_amp - cl) < 0.03


def test_amplitude_interval_properties():
    lo, hi = amplitude_interval(np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0]), 1.0)
    assert np.all(lo <= hi) and np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0)
    assert np.all(lo[:3] == 0.0) and lo[-1] > 0  # upper limits at low significance
    assert hi[-1] - lo[-1] == pytest.approx(2.0, abs=0.05)  # Gaussian +-1 sigma far above
    with pytest.raises(InputError, match="a_obs/sigma"):
        amplitude_interval(12.0, 1.0)

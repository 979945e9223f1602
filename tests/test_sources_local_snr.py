"""The local-SNR fit recovers a synthetic spectrum (no solver needed)."""

import astropy.units as u
import numpy as np
import pytest

from crknee.errors import InputError
from crknee.sources.catalogue import LOCAL_SNR, NAMED_SOURCES
from crknee.sources.local_snr import fit_local_snr
from crknee.sources.point import FLUX_UNIT, PointSource


def _background(E):
    return 1.2e4 * E**-2.8 * np.exp(-E / 3e5)  # a smooth power law [m^-2 s^-1 sr^-1 GeV^-1]


def test_recovers_synthetic_local_snr():
    e = NAMED_SOURCES[LOCAL_SNR]
    truth = PointSource("t", e.l_deg, e.b_deg, 0.30, 0.33, 2.1, 10**4.3, energy_erg=10**49.5)
    E = np.logspace(1.5, 5, 30)
    model = _background(E) + truth.flux("H1", E * u.GeV).to_value(FLUX_UNIT)
    rng = np.random.default_rng(11)
    err = 0.01 * model
    data = model + err * rng.normal(size=E.size)
    fit = fit_local_snr(E, data, err, _background, x0=(49.0, 2.4, 4.0, 0.25, 0.34))
    assert fit.chi2 / fit.ndof < 2.0
    best = _background(E) + fit.source.flux("H1", E * u.GeV).to_value(FLUX_UNIT)
    np.testing.assert_allclose(best, model, rtol=0.02)
    assert fit.source.beta == pytest.approx(2.1, abs=0.15)
    assert e.d_lo_kpc <= fit.source.d_kpc <= e.d_hi_kpc


def test_bad_inputs():
    E = np.logspace(2, 4, 8)
    with pytest.raises(InputError, match="errors"):
        fit_local_snr(E, E, -E, np.zeros(8))
    with pytest.raises(InputError, match="background"):
        fit_local_snr(E, E, E, np.zeros(3))


def test_anisotropy_constraint_recovers_synthetic_dipole():
    from crknee.anisotropy import combine, equatorial, unit_vector
    from crknee.sources.local_snr import AnisotropyConstraint

    e = NAMED_SOURCES[LOCAL_SNR]
    truth = PointSource("t", e.l_deg, e.b_deg, 0.30, 0.33, 2.1, 10**4.3, energy_erg=10**49.5)
    E = np.logspace(1.5, 5, 30)
    model = _background(E) + truth.flux("H1", E * u.GeV).to_value(FLUX_UNIT)
    Ea = np.logspace(2.5, 4.8, 6)
    J_bg = _background(Ea)
    d_bg = 1e-3 * (Ea[:, None] / 1e3) ** 0.33 * unit_vector(0.0, 0.0)  # towards the GC
    J_s, d_s, _ = truth.evaluate(Ea, "all")
    amp, ra = equatorial(combine([J_bg, J_s], [d_bg, d_s])[1])
    con = AnisotropyConstraint(Ea, amp, 0.05 * amp, ra, np.full(6, 3.0), J_bg, d_bg)
    assert np.allclose(con.residuals(truth), 0.0, atol=1e-9)
    fit = fit_local_snr(E, model, 0.01 * model, _background, x0=(49.0, 2.4, 4.0, 0.25, 0.34), anisotropy=con)
    assert fit.ndof == 30 + 12 - 5
    assert fit.chi2 / fit.ndof < 0.5
    with pytest.raises(InputError, match="one length"):
        AnisotropyConstraint(Ea, amp[:3], amp, ra, ra, J_bg, d_bg)

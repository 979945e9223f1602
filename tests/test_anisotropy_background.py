"""Background dipole: generic arrays and the adapter to the propagation solution."""

import astropy.units as u
import numpy as np
import pytest

from crknee import anisotropy as an
from crknee.constants import C_CM_S, KPC_PER_CM


def test_background_dipole_generic_arrays():
    E = np.array([1e3, 1e4])
    J = [np.array([3.0, 3.0]), np.array([1.0, 1.0])]
    grads = [(np.array([-0.1, -0.1]), np.zeros(2)), (np.array([0.2, 0.2]), np.zeros(2))]
    D = [np.full(2, 1e29), np.full(2, 2e29)]
    Jt, d = an.background_dipole(E, J, grads, D)
    lam = 3e29 / C_CM_S * KPC_PER_CM
    # x = -dlnpsi/dr; flux-weighted: (3 * 0.1 * lam + 1 * (-0.2) * 2 lam) / 4
    np.testing.assert_allclose(d[:, 0], (3 * 0.1 * lam - 0.2 * 2 * lam) / 4, rtol=1e-12)
    assert np.all(d[:, 1:] == 0) and np.all(Jt == 4.0)


@pytest.fixture(scope="module")
def solution():
    from crknee.propagation.solution import solve

    return solve()


def test_solution_dipole_points_to_galactic_centre(solution):
    E = np.array([1e3, 1e5])
    J, d = an.solution_dipole(solution, E)
    np.testing.assert_allclose(J, solution.all_particle(E * u.GeV).value, rtol=1e-6)
    amp, ra = an.equatorial(d)
    np.testing.assert_allclose(ra, 266.40, atol=0.01)  # inward gradient -> towards the GC
    g_r, _ = solution.gradient("H1", E * u.GeV, "Etot")
    p = np.sqrt(E**2 - 0.938272**2)
    lam_p = 3 * solution.diffusion.cm2_s(p, p / E) / C_CM_S * KPC_PER_CM
    # the all-particle dipole mixes species of different D and gradient: bracket it around the protons
    assert np.all(amp > 0.3 * lam_p * np.abs(g_r.value) * np.cos(np.radians(28.94)))
    assert np.all(amp < 3.0 * lam_p * np.abs(g_r.value))


def test_local_snr_fit_to_bundled_protons(solution):
    from crknee.sources.local_snr import fit_local_snr, proton_data
    from crknee.sources.point import FLUX_UNIT

    E, y, s = proton_data()
    assert E.size > 40 and np.all((E >= 30) & (E <= 1e5))
    bg = solution.earth("H", E * u.GeV, "Etot").to_value(FLUX_UNIT)
    chi2_bg = np.sum(((bg - y) / s) ** 2)
    fit = fit_local_snr(E, y, s, bg)
    # the background solver evolves independently: require a clear improvement and a good fit
    assert fit.chi2 < 0.5 * chi2_bg
    assert fit.chi2 / fit.ndof < 1.5


def test_total_flux_and_dipole_of_sources_plus_background(solution):
    from crknee.sources.point import PointSource
    from crknee.sources.total import total_dipole, total_flux

    knee = PointSource("knee", 337.4, 0.0, 2.64, 4.82, 2.3, 3e6, energy_erg=1e50)
    snr = PointSource("snr", 195.134, 4.266, 0.25, 0.342, 2.1, 2e4, energy_erg=1e49)
    E = np.array([1e3, 1e6]) * u.GeV
    J = total_flux(E, "H1", [knee, snr], solution)
    expect = knee.flux("H1", E) + snr.flux("H1", E) + solution.earth("H1", E, "Etot")
    np.testing.assert_allclose(J.value, expect.value, rtol=1e-12)
    J_all, d, ok = total_dipole(E, [knee, snr], solution)
    J_bg, d_bg = an.solution_dipole(solution, E.value)
    parts = [knee.evaluate(E.value), snr.evaluate(E.value)]
    manual = (J_bg[:, None] * d_bg + sum(p[0][:, None] * p[1] for p in parts)) / J_all.value[:, None]
    np.testing.assert_allclose(d, manual, rtol=1e-12)
    assert ok.all()

"""Force-field solar modulation (Gleeson & Axford 1968)."""

import astropy.units as u
import numpy as np
import pytest

from crknee.errors import InputError
from crknee.kinematics import nuclide
from crknee.modulation import PHI_PAPER, force_field, modulate_table

FLUX = 1 / (u.m**2 * u.s * u.sr * u.GeV)


def test_paper_potential():
    assert PHI_PAPER.to_value(u.MV) == 550


@pytest.mark.parametrize("sp", ["p", "He4", "C12"])
def test_phi_zero_is_identity(sp):
    e = np.logspace(-1, 4, 50) * u.GeV

    def lis(x):
        return x**-2.7

    np.testing.assert_allclose(force_field(e, lis, sp, 0 * u.MV), e.value**-2.7, rtol=1e-14)


def test_phase_space_density_conserved():
    """J/p^2 at Earth equals J/p^2 of the LIS at the shifted energy (Liouville)."""
    nuc = nuclide("C12")
    mn = nuc.mass_GeV / nuc.A
    e = np.logspace(-1, 3, 40)
    phi = 0.55  # GV
    Phi = nuc.Z / nuc.A * phi

    def lis(x):
        return 3.0 * x**-2.5

    j = force_field(e * u.GeV, lis, nuc, phi * u.GV)
    p2 = e * (e + 2 * mn)
    p2_lis = (e + Phi) * (e + Phi + 2 * mn)
    np.testing.assert_allclose(j / p2, lis(e + Phi) / p2_lis, rtol=1e-13)


def test_power_law_limits():
    """High energy: J -> J_LIS (1 - gamma Phi / E); low energy: J proportional to E (p^2 at fixed shift)."""
    nuc = nuclide("p")
    gamma = 2.7
    Phi = 0.55

    def lis(x):
        return x**-gamma

    e_hi = 1e5
    j = force_field(np.array([e_hi]) * u.GeV, lis, nuc, 550 * u.MV)[0]
    # exact first order in Phi/E for E >> m: J/J_LIS = (1 + Phi/E)^-(gamma+2) (1 + O(m/E))
    assert j / lis(e_hi) == pytest.approx((1 + Phi / e_hi) ** -(gamma + 2), rel=1e-5)
    # E << Phi and E << m: J = J_LIS(Phi) * 2 m E / (Phi (Phi + 2m)), linear in E
    e_lo = np.array([1e-6, 2e-6])
    j_lo = force_field(e_lo * u.GeV, lis, nuc, 550 * u.MV)
    assert j_lo[1] / j_lo[0] == pytest.approx(2.0, rel=1e-5)


def test_modulation_suppresses_low_energies_more():
    e = np.logspace(-1, 3, 30) * u.GeV
    lis = e.value**-2.7 * FLUX
    ratio = (modulate_table(e, lis, "p", PHI_PAPER) / lis).value
    assert np.all(np.diff(ratio[:-1]) > 0) and ratio[0] < 0.3 and ratio[-2] > 0.99


def test_table_matches_callable():
    e = np.logspace(-1, 4, 200) * u.GeV

    def lis(x):
        return x**-2.7 * np.exp(-x / 5e3)

    a = modulate_table(e, lis(e.value) * FLUX, "He4", 0.6 * u.GV).value
    b = force_field(e, lis, "He4", 0.6 * u.GV)
    np.testing.assert_allclose(a[:-10], b[:-10], rtol=2e-4)


@pytest.mark.parametrize("phi", [-1 * u.MV, np.nan * u.MV])
def test_bad_potential(phi):
    with pytest.raises(InputError, match="phi"):
        force_field(np.array([1.0]) * u.GeV, lambda x: x, "p", phi)


def test_bad_energy():
    with pytest.raises(InputError, match="energy per nucleon"):
        force_field(np.array([-1.0]) * u.GeV, lambda x: x, "p")

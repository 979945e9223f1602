"""Interstellar gas model and ionisation/Coulomb losses."""

import astropy.units as u
import numpy as np
import pytest
from astropy.constants import N_A, c, m_e
from scipy.integrate import quad

from crknee.errors import InputError
from crknee.kinematics import momentum_from, nuclide
from crknee.propagation.gas import (
    KPC_CM,
    ThinDisk,
    local_thin_disk,
    n_H2,
    n_HI,
    n_HII,
    surface_density_H,
)
from crknee.propagation.losses import momentum_loss_rate

MSUN_PC2_G_CM2 = (1 * u.Msun / u.pc**2).to_value(u.g / u.cm**2)
M_H_G = 1.6735e-24  # hydrogen atom mass [g]


def test_hi_midplane_at_a_bin_centre():
    # GB76 bin [6.5, 7.0] kpc has Y = 0.30 cm^-3 at its centre 6.75 kpc; DL90 mid-plane
    # f_Z(0) = 0.395 + 0.107 + 0.064; n = Y f_Z / 0.33.
    assert n_HI(6.75, 0.0) == pytest.approx(0.30 * 0.566 / 0.33)
    assert n_HI(16.75, 0.0) == pytest.approx(n_HI(15.75, 0.0) * np.exp(-1 / 3))


def test_hi_normalisation_dickey_lockman():
    # GALPROP renormalises to DL90's 6.2e20 cm^-2 mean column at 4-8 kpc.
    cols = [quad(lambda z: float(n_HI(r, z)), -5, 5)[0] for r in np.linspace(4, 8, 41)]
    assert np.mean(cols) * KPC_CM == pytest.approx(6.2e20, rel=0.05)


def test_local_surface_densities():
    # Local HI (H only) 4-8 Msun/pc^2 (Dickey & Lockman 1990; Kalberla & Kerp 2009 ARA&A
    # 47, 27), H2 1-3 Msun/pc^2 (Dame 1993; Bronfman et al. 1988).
    s_hi = quad(lambda z: float(n_HI(8.5, z)), -5, 5)[0] * KPC_CM * M_H_G / MSUN_PC2_G_CM2
    s_h2 = 2 * quad(lambda z: float(n_H2(8.5, z)), -5, 5)[0] * KPC_CM * M_H_G / MSUN_PC2_G_CM2
    assert 4.0 < s_hi < 8.0
    assert 1.0 < s_h2 < 3.0


def test_h2_at_a_table_node():
    # v54 table at 8.25 kpc: eps = 5.0 K km/s/kpc, Z0 = -0.004 kpc, Zh = 0.080 kpc.
    peak = 5.0 * 1.9e20 / KPC_CM
    assert n_H2(8.25, -0.004) == pytest.approx(peak)
    assert n_H2(8.25, -0.004 + 0.080) == pytest.approx(peak / 2)
    assert n_H2(8.25, 0.0, X_CO=3.8e20) == pytest.approx(2 * n_H2(8.25, 0.0))
    assert n_H2(21.5, 0.0) == 0.0


def test_hii_cordes():
    assert n_HII(0.0, 0.0) == pytest.approx(0.025 + 0.2 * np.exp(-4))


def test_densities_broadcast_over_grids():
    r, z = np.meshgrid(np.linspace(0, 20, 5), np.linspace(-4, 4, 3), indexing="ij")
    for f in (n_HI, n_H2, n_HII):
        out = f(r, z)
        assert out.shape == (5, 3) and np.all(out >= 0)
        assert out[2, 1] == pytest.approx(f(10.0, 0.0))


def test_thin_disk():
    d = local_thin_disk()
    assert isinstance(d, ThinDisk) and d.h_kpc == 0.1
    # column of H nuclei spread over 2h; ~1 H atom/cm^3 over +-0.1 kpc, He/H = 0.11
    assert d.n_H == pytest.approx(surface_density_H(8.5) / 0.2)
    assert 0.8 < d.n_H < 2.0
    assert d.n_He == pytest.approx(0.11 * d.n_H)
    assert local_thin_disk(h_kpc=0.2).n_H == pytest.approx(d.n_H / 2)
    assert local_thin_disk(include_HII=True).n_H > d.n_H
    with pytest.raises(InputError, match="h_kpc"):
        local_thin_disk(h_kpc=-0.1)
    with pytest.raises(InputError, match="r_kpc"):
        n_HI(-1.0, 0.0)


def _bethe_pdg_eV_s(T_GeV, n_H):
    """PDG (Rev. Part. Phys. 2022, eq. 34.5) mean stopping power in atomic hydrogen,
    K = 4 pi N_A r_e^2 m_e c^2 = 0.307075 MeV cm^2/mol, I = 19 eV, no density effect,
    times the density and the speed."""
    mp = nuclide("H1").mass_GeV
    gam = 1 + T_GeV / mp
    b2 = 1 - 1 / gam**2
    me = (m_e * c**2).to_value(u.MeV)
    wmax = 2 * me * b2 * gam**2 / (1 + 2 * gam * me / (mp * 1e3) + (me / (mp * 1e3)) ** 2)
    dedx = 0.307075 * (1 / 1.00794) / b2 * (0.5 * np.log(2 * me * b2 * gam**2 * wmax / (19e-6) ** 2) - b2)  # MeV cm^2/g
    rho = n_H * 1.00794 / N_A.value  # g/cm^3
    return dedx * rho * np.sqrt(b2) * c.to_value(u.cm / u.s) * 1e6  # eV/s


@pytest.mark.parametrize("T_GeV", [0.01, 0.1, 1.0, 100.0])
def test_ionisation_matches_bethe(T_GeV):
    p = nuclide("H1")
    pc = momentum_from(np.array([T_GeV]), "Ek", 1, 1, p.mass_GeV)
    beta = pc / np.sqrt(pc**2 + p.mass_GeV**2)
    dpdt = momentum_loss_rate(pc, 1, 1, p.mass_GeV, n_H=1.0, n_He=0.0, n_e=0.0)
    dEdt_eV_s = dpdt * beta * 1e9 / (1 * u.Myr).to_value(u.s)
    assert dEdt_eV_s == pytest.approx(_bethe_pdg_eV_s(T_GeV, 1.0), rel=2e-3)


def test_ionisation_textbook_value():
    # Mannheim & Schlickeiser 1994 (A&A 286, 983) approximation for protons in neutral H:
    # -dE/dt = 1.82e-7 n_H (1 + 0.0185 ln beta) 2 beta^2 / (1e-6 + 2 beta^3) eV/s, a fit
    # without the relativistic rise, good to ~10 % around 1 GeV (the exact Bethe value is
    # tested above).
    p = nuclide("H1")
    pc = momentum_from(np.array([1.0]), "Ek", 1, 1, p.mass_GeV)
    beta = pc / np.sqrt(pc**2 + p.mass_GeV**2)
    approx = 1.82e-7 * (1 + 0.0185 * np.log(beta)) * 2 * beta**2 / (1e-6 + 2 * beta**3)
    dEdt = momentum_loss_rate(pc, 1, 1, p.mass_GeV, 1.0, 0.0, 0.0) * beta * 1e9 / 3.15576e13
    assert dEdt == pytest.approx(approx, rel=0.10)
    assert 1.8e-7 < dEdt[0] < 2.2e-7


def test_charge_squared_and_helium_scaling():
    p, c12 = nuclide("H1"), nuclide("C12")
    pp = momentum_from(np.array([1.0]), "Ekn", 1, 1, p.mass_GeV)
    pc = pp * c12.mass_GeV / p.mass_GeV  # same beta gamma, same velocity
    # same velocity: -dE/dt ~ Z^2 (Q_max differs by < 1e-3), -dp/dt = -dE/dt / beta
    ratio = momentum_loss_rate(pc, 6, 12, c12.mass_GeV, 1.0, 0.0, 0.0) / momentum_loss_rate(
        pp, 1, 1, p.mass_GeV, 1.0, 0.0, 0.0
    )
    assert ratio == pytest.approx(36.0, rel=1e-3)
    # He atoms carry 2 electrons and I = 44 eV: ratio 2 B_He / B_H
    h = momentum_loss_rate(pp, 1, 1, p.mass_GeV, 1.0, 0.0, 0.0)
    he = momentum_loss_rate(pp, 1, 1, p.mass_GeV, 0.0, 1.0, 0.0)
    assert 1.8 < (he / h)[0] < 2.0


def test_coulomb_term():
    p = nuclide("H1")
    pc = momentum_from(np.array([1.0]), "Ek", 1, 1, p.mass_GeV)
    c1 = momentum_loss_rate(pc, 1, 1, p.mass_GeV, 0.0, 0.0, n_e=1.0)
    assert momentum_loss_rate(pc, 1, 1, p.mass_GeV, 0.0, 0.0, n_e=0.0) == 0.0
    # Coulomb losses in plasma exceed neutral ionisation by ~2 ln(Lambda)/B_H ~ 3
    # (Mannheim & Schlickeiser 1994, ln Lambda ~ 38 at 1 GeV).
    ion = momentum_loss_rate(pc, 1, 1, p.mass_GeV, 1.0, 0.0, n_e=0.0)
    assert 2.5 < (c1 / ion)[0] < 4.5
    # suppressed below the thermal electron speed (T_e = 1e4 K: x_m = 2.0e-3)
    slow = momentum_from(np.array([1e-7]), "Ek", 1, 1, p.mass_GeV)  # beta = 4.6e-4
    fast = momentum_from(np.array([1e-6]), "Ek", 1, 1, p.mass_GeV)  # beta = 1.5e-3
    r_slow = momentum_loss_rate(slow, 1, 1, p.mass_GeV, 0.0, 0.0, 1.0)
    r_fast = momentum_loss_rate(fast, 1, 1, p.mass_GeV, 0.0, 0.0, 1.0)
    assert r_slow < r_fast


@pytest.mark.parametrize(
    "kw,match",
    [({"p_GeV": -1.0}, "p_GeV"), ({"n_H": -1.0}, "n_H"), ({"Z": 0}, "Z"), ({"mass_GeV": np.nan}, "mass_GeV")],
)
def test_loss_rejects_bad_input(kw, match):
    args = dict(p_GeV=1.0, Z=1, A=1, mass_GeV=0.938, n_H=1.0, n_He=0.1)
    args.update(kw)
    with pytest.raises(InputError, match=match):
        momentum_loss_rate(**args)

"""The knee source in the background's halo |z| < H (free escape at |z| = H).

Two exact representations of the slab kernel (images, eigenmodes) against each other, an
independent high-precision image sum, eq. (6), the 1D slab's survival probability, the
diffusion equation and the time integral of bursts; the vectorised KneeModel against
PointSource.  sigma = sqrt(4 D t) throughout (tau = D t / H^2 = (sigma / H)^2 / 4).
"""

from decimal import Decimal, getcontext

import astropy.units as u
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf

from crknee.errors import InputError
from crknee.sources import greens
from crknee.sources.injection import galprop_composition
from crknee.sources.model import KneeModel
from crknee.sources.point import PointSource

H = 4.5
SIGMA_OVER_H = np.geomspace(0.05, 20.0, 15)
ZETAS = (0.0, 0.02, 0.1, 0.3, 0.6, 0.9)


def _case(sH, zeta, t=1.0):
    """(zs, t, D) of a source at height zeta H observed after sigma = sH H."""
    return zeta * H, t, (sH * H) ** 2 / (4.0 * t)


def _images_decimal(zs, t, D, n_pairs, digits=300):
    """Reference image sum (G_z, dG_z/dz) with `digits` significant digits (no cancellation)."""
    getcontext().prec = digits
    s = Decimal(4.0) * Decimal(D) * Decimal(t)
    norm = 1 / (Decimal(np.pi) * s).sqrt()
    G = dG = Decimal(0)
    for n in range(-n_pairs, n_pairs + 1):
        sign = -1 if n % 2 else 1
        zn = 2 * n * Decimal(H) + sign * Decimal(zs)
        term = sign * norm * (-(zn * zn) / s).exp()
        G += term
        dG += term * 2 * zn / s
    return float(G), float(dG)


def test_images_and_modes_agree_in_double_precision():
    """The package's two sums agree to 1e-6 (density, z-gradient) wherever double precision
    resolves the image sum (sigma / H <= 4: beyond, its terms cancel to e^-(pi sigma/4H)^2)."""
    worst = 0.0
    for sH in SIGMA_OVER_H[SIGMA_OVER_H <= 4.0]:
        for zeta in ZETAS:
            if zeta > 2.0 * sH:  # G_z < e^-4 of its peak there: the mode sum cancels instead
                continue
            zs, t, D = _case(sH, zeta)
            gi, dgi = greens.slab_images(zs, t, D, H, int(6 * sH) + 4)
            gm, dgm = greens.slab_modes(zs, t, D, H, int(12 / sH) + 6, int(12 / sH) + 6)
            assert gi == pytest.approx(gm, rel=1e-6), (sH, zeta)
            scale = gm * H / (2 * D * t)  # the gradient's tolerance unit, G H / (2 D t)
            assert dgi == pytest.approx(dgm, rel=1e-6, abs=1e-10 * scale), (sH, zeta)
            worst = max(worst, abs(gi / gm - 1))
    assert worst < 1e-9


@pytest.mark.parametrize("sH", SIGMA_OVER_H[SIGMA_OVER_H > 1.0])
def test_modes_match_high_precision_images_up_to_sigma_20H(sH):
    for zeta in ZETAS:
        zs, t, D = _case(sH, zeta)
        gm, dgm = greens.slab_modes(zs, t, D, H, 12, 12)
        gr, dgr = _images_decimal(zs, t, D, int(np.sqrt(500 * D * t) / H) + 5)  # tail < e^-500
        assert gm == pytest.approx(gr, rel=1e-10), (sH, zeta)
        assert dgm == pytest.approx(dgr, rel=1e-6, abs=1e-10 * gr * H / (2 * D * t)), (sH, zeta)


def test_auto_choice_meets_tolerance_with_few_terms():
    """slab_burst (automatic representation and term counts) is within its tolerance
    (greens.TOLERANCE = 1e-12, and 1e-8) of converged sums, density and gradients, and
    never needs more than 6 exponentials for sources up to |z_s| = 0.3 H (7 up to 0.9 H)."""
    worst = {1e-8: 0.0, greens.TOLERANCE: 0.0}
    rho = 2.0
    for sH, tol in [(x, tol) for x in np.geomspace(0.02, 40.0, 40) for tol in worst]:
        for zeta in (0.0, 0.05, 0.2, 0.5, 0.8, 0.95):
            zs, t, D = _case(sH, zeta, t=3.0)
            G, g_rho, g_z = greens.slab_burst(rho, zs, t, D, H, tol=tol)
            plane = greens.plane_kernel(rho, t, D)
            tau = D * t / H**2
            if tau < 0.3:
                ref, dref = _images_decimal(zs, t, D, int(6 * sH) + 4)
            else:
                ref, dref = greens.slab_modes(zs, t, D, H, 40, 40)
            ref, dref = ref * plane, dref * plane
            worst[tol] = max(worst[tol], abs(G / ref - 1), abs(g_z - dref) / (ref * H / (2 * D * t)))
            assert g_rho == pytest.approx(-rho / (2 * D * t) * ref, rel=tol)
    for tol, err in worst.items():
        assert err <= tol, (tol, err)
    tau = np.geomspace(1e-4, 1e3, 400)[:, None]
    for zmax, most in ((0.3, 6), (0.9, 7)):
        zeta = np.linspace(0.0, zmax, 7)
        N = greens.image_pairs_needed(tau, zeta)
        M, K = greens.modes_needed(tau)
        assert np.minimum(2 * N + 1, M + 1 + K).max() == most
    assert greens.image_pairs_needed(1e-3, 0.0) == 0  # sigma << H: free space (eq. 6) alone
    assert tuple(int(x) for x in greens.modes_needed(10.0)) == (0, 0)  # sigma >> H: one mode


def test_free_space_limit_for_small_sigma():
    rho, zs, t, D = 0.3, 0.1, 0.05, 0.2  # sigma = 0.2 kpc, H = 4.5 kpc
    r = np.hypot(rho, zs)
    G, g_rho, g_z = greens.slab_burst(rho, zs, t, D, H)
    assert G == pytest.approx(greens.burst_density(r, t, D), rel=1e-12)
    dr = greens.burst_gradient(r, t, D)
    assert g_rho == pytest.approx(dr * rho / r, rel=1e-12)
    assert g_z == pytest.approx(-dr * zs / r, rel=1e-12)  # points back to the source, above


@pytest.mark.parametrize("method", ["images", "modes"])
def test_infinite_halo_reduces_to_eq6(method):
    rho, zs, t, D = 2.64, 0.3, 4.82, 1.1
    r = np.hypot(rho, zs)
    big = 60.0 * np.sqrt(4 * D * t)
    G, g_rho, g_z = greens.slab_burst(rho, zs, t, D, big, method=method)
    assert G == pytest.approx(greens.burst_density(r, t, D), rel=1e-8)
    dr = greens.burst_gradient(r, t, D)
    assert g_rho == pytest.approx(dr * rho / r, rel=1e-8)
    assert g_z == pytest.approx(-dr * zs / r, rel=1e-6)
    Gc = greens.slab_continuous(rho, zs, t, D, 1e3 * big)[0]
    assert Gc == pytest.approx(greens.continuous_density(r, t, D), rel=1e-8)


def test_particle_number_leaks_through_the_boundaries():
    """Integral of G over the slab (plane x height) = the 1D slab's survival probability, in
    its eigenmode form and its image form, decreasing with time."""
    D = 1.0
    ages = [0.5, 2.0, 5.0, 10.0, 20.0, 40.0]
    # reciprocity: G(observer 0, source z) = G(observer z, source 0), so integrating over
    # the source height integrates the density of a mid-plane source over the slab;
    # Gauss-Legendre in height and in rho over [0, 12 sigma] (the integrands are smooth)
    x, w = np.polynomial.legendre.leggauss(160)
    z, wz = H * x, H * w
    numbers = []
    for t in ages:
        top = 12 * np.sqrt(4 * D * t)
        rho, wr = 0.5 * top * (x + 1), 0.5 * top * w
        G = greens.slab_burst(rho[:, None], z[None, :], t, D, H)[0]
        n = np.einsum("i,j,ij->", 2 * np.pi * rho * wr, wz, G)
        numbers.append(n)
        a = 1 / np.sqrt(4 * D * t)
        images = sum((-1) ** k * 0.5 * (erf((H - 2 * k * H) * a) + erf((H + 2 * k * H) * a)) for k in range(-30, 31))
        assert n == pytest.approx(greens.survival_probability(t, D, H), rel=1e-7), t
        assert n == pytest.approx(images, rel=1e-7), t
    assert np.all(np.diff(numbers) < 0) and numbers[0] < 1.0
    assert numbers[-1] == pytest.approx(4 / np.pi * np.exp(-(np.pi**2) * D * 40.0 / (4 * H**2)), rel=1e-6)


@pytest.mark.parametrize("sH", [0.3, 1.0, 4.0])
def test_halo_solution_obeys_diffusion_equation(sH):
    """dG/dt = D (d2/drho2 + 1/rho d/drho + d2/dz_s^2) G (self-adjoint operator: the source
    coordinates obey it too), by centred finite differences."""
    rho, zs = 2.0, 0.7
    _, t, D = _case(sH, 0.0, t=2.0)
    G = lambda r, z, tt: greens.slab_burst(r, z, tt, D, H)[0]  # noqa: E731
    h, k = 1e-3, 1e-4 * t
    dt = (G(rho, zs, t + k) - G(rho, zs, t - k)) / (2 * k)
    g0 = G(rho, zs, t)
    lap = (
        (G(rho + h, zs, t) - 2 * g0 + G(rho - h, zs, t)) / h**2
        + (G(rho + h, zs, t) - G(rho - h, zs, t)) / (2 * h * rho)
        + (G(rho, zs + h, t) - 2 * g0 + G(rho, zs - h, t)) / h**2
    )
    assert dt == pytest.approx(D * lap, rel=1e-5)
    assert abs(greens.slab_burst(rho, H * (1 - 1e-12), t, D, H)[0]) < 1e-9 * g0  # absorbing wall


@pytest.mark.parametrize("D,active", [(0.3, None), (1.0, 0.5), (3.0, None), (10.0, 0.1), (40.0, 1.0)])
def test_continuous_is_time_integral_of_bursts(D, active):
    rho, zs, t = 2.64, 0.4, 4.82
    start = 0.0 if active is None else t - active
    ref = [
        quad(
            lambda s, i=i: greens.slab_burst(rho, zs, t - s, D, H)[i], 0.0, t - start, epsabs=0, epsrel=1e-11, limit=400
        )[0]
        for i in range(3)
    ]
    got = greens.slab_continuous(rho, zs, t, D, H, active)
    np.testing.assert_allclose(got, ref, rtol=1e-7)
    if D * t / H**2 <= 0.5:  # the closed-form image sum and the quadrature of bursts
        quadrature = greens.slab_continuous(rho, zs, t, D, H, active, method="quadrature")
        np.testing.assert_allclose(got, quadrature, rtol=1e-9)


def test_point_source_continuous_window_free_space():
    kw = dict(
        name="mq",
        l_deg=30.0,
        b_deg=1.0,
        d_kpc=2.0,
        age_Myr=1.0,
        beta=2.2,
        Rcut_GV=1e7,
        luminosity_erg_s=1e38,
        mode="continuous",
    )
    E = np.array([1e4, 1e6]) * u.GeV
    on = PointSource(**kw).lis("H1", E)
    early = PointSource(**{**kw, "age_Myr": 0.7}).lis("H1", E)
    off = PointSource(**kw, active_Myr=0.3).lis("H1", E)  # emitted from 1 to 0.7 Myr ago
    np.testing.assert_allclose(off.value, (on - early).value, rtol=1e-10)
    with pytest.raises(InputError, match="active"):
        PointSource(**{**kw, "mode": "burst", "luminosity_erg_s": None, "energy_erg": 1e50}, active_Myr=0.1)


def test_point_source_halo_continuous_matches_quadrature_of_bursts():
    kw = dict(name="mq", l_deg=30.0, b_deg=3.0, d_kpc=2.0, age_Myr=2.0, beta=2.2, Rcut_GV=1e7, halo_kpc=H)
    E = np.array([3e3, 1e5, 3e6]) * u.GeV
    cont = PointSource(**kw, luminosity_erg_s=1e38, mode="continuous", active_Myr=0.5)
    lum_per_Myr = 1e38 * 3.15576e13
    burst = lambda age: PointSource(**{**kw, "age_Myr": age}, energy_erg=lum_per_Myr).lis("H1", E).value  # noqa: E731
    nodes, weights = np.polynomial.legendre.leggauss(24)
    ages = 1.75 + 0.25 * nodes  # emission from 2.0 to 1.5 Myr ago
    ref = 0.25 * sum(w * burst(a) for w, a in zip(weights, ages))
    np.testing.assert_allclose(cont.lis("H1", E).value, ref, rtol=1e-8)


@pytest.mark.filterwarnings("ignore::crknee.sources.point.ValidityWarning")
def test_knee_model_halo_matches_point_source_off_plane():
    comp = galprop_composition()
    Ef = np.geomspace(1e3, 1e8, 7)
    Ea = np.geomspace(1e2, 3e11, 12)
    P = np.array(
        [
            [337.4, 0.0, 2.64, 4.82, 3e6, 2.3, 1e50],
            [120.0, -20.0, 3.0, 2.0, 5e6, 2.6, 3e49],
            [200.0, 40.0, 4.0, 5.5, 1e7, 2.1, 1e49],
            [10.0, 5.0, 1.2, 0.3, 2e6, 2.4, 1e50],
        ]
    )
    m = KneeModel(Ef, Ea, ("H1", "all"), composition=comp, halo_kpc=H)
    res = m(*P.T)
    for w, (l, b, d, t, rc, beta, W) in enumerate(P):
        s = PointSource("x", l, b, d, t, beta, rc, energy_erg=W, composition=comp, halo_kpc=H)
        np.testing.assert_allclose(res.flux["H1"][w], s.lis("H1", Ef * u.GeV).value, rtol=1e-7)
        J = s.lis("all", Ea * u.GeV).value
        np.testing.assert_allclose(res.flux_all[w], J, rtol=1e-7)
        ok = J > 0
        np.testing.assert_allclose(res.dipole[w][ok], s.dipole("all", Ea[ok] * u.GeV).value, rtol=1e-7, atol=1e-12)
        assert np.isnan(res.dipole[w][~ok]).all()
    # the same rows one at a time (other blocks, other term counts): the same to the tolerance
    single = np.array([m(*row).flux_all[0] for row in P])
    np.testing.assert_allclose(single, res.flux_all, rtol=1e-8)


def test_knee_model_huge_halo_is_free_space():
    comp = galprop_composition()
    E = np.geomspace(1e3, 1e6, 6)
    rows = np.array([[337.4, 2.0, 2.64, 4.82, 3e6, 2.3, 1e50], [90.0, -3.0, 1.5, 1.0, 5e6, 2.6, 3e49]])
    free = KneeModel(E, E, ("H1",), composition=comp)(*rows.T)
    halo = KneeModel(E, E, ("H1",), composition=comp, halo_kpc=1e4)(*rows.T)
    np.testing.assert_allclose(halo.flux_all, free.flux_all, rtol=1e-8)
    np.testing.assert_allclose(halo.flux["H1"], free.flux["H1"], rtol=1e-8)
    np.testing.assert_allclose(halo.dipole, free.dipole, rtol=1e-7, atol=1e-14)

"""crknee.population.kernel: the compiled source sum equals the halo Green's functions of
crknee.sources.greens and a one-source population reproduces PointSource exactly."""

from dataclasses import replace

import numpy as np
import pytest

from crknee.constants import C_KPC_MYR
from crknee.population.continuum import make_grid
from crknee.population.realisation import Sources, sum_sources
from crknee.population.spec import spec_from_dict
from crknee.sources import greens
from crknee.sources.point import PointSource

# PointSource.evaluate divides 0 by 0 where a young source has not arrived (J = 0)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def grid_spec():
    spec = spec_from_dict(
        {"population": {"composition": "galprop", "points_per_decade": 2, "E_min_GeV": 1e2, "E_max_GeV": 1e8}}
    )
    g = make_grid(spec)
    # open windows: every source is summed at every energy
    return spec, replace(g, T=np.full(g.D.shape, 1e9), rho=np.full(g.D.shape, 1e9))


def _check_point(spec, grid, src, lifetime=None, rtol=1e-9):
    """Equal to round-off.  The image sum of greens loses digits to cancellation when
    sigma >> H (its relative error ~ 1e-16 exp(pi^2 D t / 4 H^2)); the eigenmode form of
    the kernel does not, so the tolerance grows with D t there."""
    sums = sum_sources(grid, spec.H_kpc, Sources.from_point_sources([src], None if lifetime is None else [lifetime]))
    free = replace(src, halo_kpc=None)  # magnitude of the single image terms
    for s, name in enumerate(grid.species):
        J, own, _ = src.evaluate(spec.E_GeV, name)
        tol = rtol + 1e-15 * np.exp(np.pi**2 * grid.D[s] * src.age_Myr / (4.0 * spec.H_kpc**2))
        atol = 1e-13 * free.evaluate(spec.E_GeV, name)[0] + 1e-300
        assert np.all(np.abs(sums.J[s] - J) <= tol * np.abs(J) + atol), name
        num = np.nan_to_num(J[:, None] * own)
        assert np.all(
            np.abs(sums.dip[s] - num) <= tol[:, None] * np.abs(num) + 1e-12 * np.abs(num).max() + atol[:, None]
        ), name
    J_all, own_all, _ = src.evaluate(spec.E_GeV, "all")
    assert np.all(np.abs(sums.jmax_all - J_all) <= 1e-3 * np.abs(J_all) + 1e-13 * free.evaluate(spec.E_GeV)[0])
    assert np.all((sums.imax_all == 0) | (sums.jmax_all == 0))
    return sums


@pytest.mark.parametrize(
    "l_deg,b_deg,d_kpc,age_Myr",
    [
        (337.4, 0.0, 2.64, 4.82),  # the paper's knee source: sigma >> H at PeV (eigenmode branch)
        (195.1, 4.3, 0.25, 0.342),  # Geminga-like: young and near (image branch)
        (40.0, -30.0, 3.0, 0.5),  # far from the plane: |z| = 1.5 kpc, images of both parities
        (120.0, 10.0, 8.0, 60.0),  # old and far
    ],
)
def test_burst_source_equals_point_source(grid_spec, l_deg, b_deg, d_kpc, age_Myr):
    spec, grid = grid_spec
    src = PointSource(
        "t",
        l_deg,
        b_deg,
        d_kpc,
        age_Myr,
        2.2,
        3e6,
        energy_erg=1e50,
        composition=spec.composition,
        diffusion=spec.diffusion,
        halo_kpc=spec.H_kpc,
    )
    _check_point(spec, grid, src)


@pytest.mark.parametrize("age_Myr", [0.05, 2.0])
def test_active_continuous_source_equals_point_source(grid_spec, age_Myr):
    spec, grid = grid_spec
    src = PointSource(
        "mq",
        39.7,
        -2.2,
        5.5,
        age_Myr,
        2.5,
        1e7,
        luminosity_erg_s=2e39,
        mode="continuous",
        composition=spec.composition,
        diffusion=spec.diffusion,
        halo_kpc=spec.H_kpc,
    )
    _check_point(spec, grid, src, rtol=1e-9)


def test_extinct_continuous_source_is_difference_of_two(grid_spec):
    """Injection during [a - tau, a] ago = continuous since a minus continuous since a - tau."""
    spec, grid = grid_spec
    a, tau = 3.0, 0.07
    kw = dict(
        composition=spec.composition,
        diffusion=spec.diffusion,
        halo_kpc=spec.H_kpc,
        mode="continuous",
        luminosity_erg_s=1e39,
    )
    old = PointSource("a", 200.0, 1.0, 1.5, a, 2.3, 1e7, **kw)
    young = PointSource("b", 200.0, 1.0, 1.5, a - tau, 2.3, 1e7, **kw)
    sums = sum_sources(grid, spec.H_kpc, Sources.from_point_sources([old], [tau]))
    J = old.evaluate(spec.E_GeV, "H1")[0] - young.evaluate(spec.E_GeV, "H1")[0]
    np.testing.assert_allclose(sums.J[0], J, rtol=1e-6)  # a difference of two near-equal sums at 100 PeV
    assert np.all(sums.J[0] > 0)


@pytest.mark.parametrize("Dt_over_H2", [1e-3, 0.05, 0.2499, 0.2501, 1.0, 3.0, 8.0])
def test_both_vertical_branches_equal_the_image_sum(grid_spec, Dt_over_H2):
    """Around the switch D t = H^2/4 the eigenmode and image forms agree with greens to 1e-12
    (plus greens' own cancellation error ~1e-15 exp(pi^2 D t / 4 H^2) when sigma >> H)."""
    spec, grid = grid_spec
    H, D = spec.H_kpc, 1.0
    t = Dt_over_H2 * H * H / D
    rng = np.random.default_rng(1)
    x, y, z = rng.uniform(-2, 2, 20), rng.uniform(-2, 2, 20), rng.uniform(-0.9 * H, 0.9 * H, 20)
    one = replace(
        grid,
        D=np.full((1, 1), D),
        R=np.ones((1, 1)),
        lnpref=np.zeros((1, 1)),
        T=np.full((1, 1), 1e9),
        rho=np.full((1, 1), 1e9),
        protons=np.array([True]),
        helium=np.array([False]),
        species=("H1",),
    )
    for i in range(x.size):
        src = Sources(
            *(np.array([v]) for v in (x[i], y[i], z[i], t, 0.0, 0.0, 0.0, 0.0)),
            is_cont=np.array([False]),
            cls=np.array([0]),
        )
        s = sum_sources(one, H, src)
        rho = np.hypot(x[i], y[i])
        G = greens.halo_density(rho, z[i], t, D, H)
        g_rho, g_z = greens.halo_gradient(rho, z[i], t, D, H)
        rel = 1e-12 + 1e-15 * np.exp(np.pi**2 * Dt_over_H2 / 4.0)
        assert s.J[0, 0] == pytest.approx(G, rel=rel)
        fac = 3.0 * D / C_KPC_MYR
        grad = np.array([-g_rho * x[i] / rho, -g_rho * y[i] / rho, g_z])
        # greens' gradient terms are ~ G_free / sigma each; their cancellation sets the floor
        floor = 1e-15 * np.exp(np.pi**2 * Dt_over_H2 / 4.0) * greens.burst_density(0.0, t, D) / np.sqrt(2 * D * t)
        np.testing.assert_allclose(s.dip[0, 0] / fac, grad, rtol=1e3 * rel, atol=1e-12 * np.abs(grad).max() + floor)

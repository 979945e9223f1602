"""crknee.population.continuum: exact ensemble means against the slab steady state, and the
Monte Carlo mean of drawn sources against those means (the continuum limit)."""

from dataclasses import replace

import numpy as np
import pytest

from crknee.population import continuum as cm
from crknee.population.realisation import SOURCE_FIELDS, Sources, draw_class, sum_sources
from crknee.population.spec import spec_from_dict

UNIFORM = {
    "mode": "burst",
    "rate_per_Myr": 200.0,
    "radial": "uniform",
    "z_s_kpc": 0.2,
    "energy_erg": 1e50,
    "beta": 2.3,
    "Rcut_GV": 1e7,
}


def _spec(R_gal=20.0, E=(1e3, 1e6), extra=None, cls=None):
    pop = {
        "E_min_GeV": E[0],
        "E_max_GeV": E[1],
        "points_per_decade": 1,
        "composition": "protons",
        "snr": cls or UNIFORM,
        "microquasar": {"rate_per_Myr": 0.0},
    }
    pop.update(extra or {})
    return spec_from_dict({"population": pop, "propagation": {"R_gal_kpc": R_gal}})


def _mean_abs_z(z_s, H):
    return z_s - H * np.exp(-H / z_s) / -np.expm1(-H / z_s)


@pytest.mark.parametrize("rho_min,times", [(3.0, 1.0), (1.0, 0.25), (8.0, 2.0)])
def test_parts_add_up_to_the_slab_steady_state(rho_min, times):
    """Uniform disc of bursts: window + tail + outside = (H - <|z|>) / (2 D) per unit surface
    rate (1D Green's function of -D psi'' = delta between absorbing planes), whatever the split."""
    spec = _spec(R_gal=60.0, extra={"rho_min_kpc": rho_min, "window_halo_times": times})
    grid = cm.make_grid(spec)
    grid = replace(grid, rho=np.full(grid.D.shape, rho_min))
    m = cm.class_means(spec, spec.classes[0], grid)
    H = spec.H_kpc
    exact = (H - _mean_abs_z(0.2, H)) / (2.0 * grid.D) / (np.pi * 60.0**2)
    np.testing.assert_allclose(m.window + m.tail + m.outside, exact, rtol=3e-4)  # 12-node vertical rule: 1.9e-4
    assert np.all(m.window > 0) and np.all(m.tail > 0) and np.all(m.outside > 0)
    # uniform density around the Sun: no mean gradient
    assert np.all(np.abs(m.window_gx + m.tail_gx + m.outside_gx) < 1e-3 * exact)


def test_continuous_class_mean_is_lifetime_times_burst_mean():
    """Births at a constant rate: a source emitting L for tau adds on average what a burst of
    L tau adds (time-translation invariance)."""
    mq = dict(
        UNIFORM, mode="continuous", luminosity_erg_s=1e39, lifetime_Myr={"dist": "loguniform", "low": 0.01, "high": 0.1}
    )
    del mq["energy_erg"]
    spec_c = _spec(R_gal=60.0, cls=mq)
    spec_b = _spec(R_gal=60.0)
    g = cm.make_grid(spec_b)
    g = replace(g, rho=np.full(g.D.shape, 3.0))
    mb = cm.class_means(spec_b, spec_b.classes[0], g)
    mc = cm.class_means(spec_c, spec_c.classes[0], g)
    tau_mean = spec_c.classes[0].lifetime_Myr.mean()
    np.testing.assert_allclose(
        mc.window + mc.tail + mc.outside, tau_mean * (mb.window + mb.tail + mb.outside), rtol=1e-5
    )


def test_eq3_profile_gives_the_inward_gradient():
    """More sources towards the Galactic centre (eq. 3 beyond its peak at 4.3 kpc): the mean
    density rises towards +x, as the background's radial gradient."""
    cls = dict(UNIFORM, radial="eq3")
    spec = _spec(cls=cls)
    g = replace(cm.make_grid(spec), rho=np.full((1, 4), 3.0))
    m = cm.class_means(spec, spec.classes[0], g)
    assert np.all(m.window_gx + m.tail_gx + m.outside_gx > 0)


def _draw(spec, rng, rho_lo, rho_hi, a_lo, a_hi):
    cls = spec.classes[0]
    from crknee.population import geometry

    frac = geometry.annulus_fraction(cls.radial, spec.r_sun_kpc, spec.R_gal_kpc, rho_lo, rho_hi)
    n = rng.poisson(cls.rate_per_Myr * (a_hi - a_lo) * frac)
    f = draw_class(spec, 0, rng, n, rho_lo, rho_hi, a_lo, a_hi)
    order = np.argsort(f["age"])
    return Sources(**{k: f[k][order] for k in SOURCE_FIELDS})


def test_skipped_sources_average_to_their_mean_with_the_predicted_rms():
    """The continuum limit: sources outside the window, drawn one by one and summed with the
    kernel, average to the smooth replacement within the Monte Carlo error, and their
    scatter is the RMS of the skip criterion (Campbell's theorem)."""
    spec = _spec(E=(1e6, 1e6))
    cont = cm.continuum(spec, check=False)
    g = cont.grid
    open_grid = replace(g, T=np.full(g.D.shape, 1e9), rho=np.full(g.D.shape, 1e9))
    t_far = 20.0 * spec.H_kpc**2 / g.D.max()  # exp(-pi^2 20 / 4) of the tail is left out
    rng = np.random.default_rng(7)
    M = 200
    vals = np.empty(M)
    for j in range(M):
        outside = _draw(spec, rng, g.rho[0, 0], spec.r_sun_kpc + spec.R_gal_kpc, 0.0, t_far)
        old = _draw(spec, rng, 0.0, g.rho[0, 0], g.T[0, 0], t_far)
        vals[j] = sum_sources(open_grid, spec.H_kpc, outside).J[0, 0] + sum_sources(open_grid, spec.H_kpc, old).J[0, 0]
    mean, err = vals.mean(), vals.std(ddof=1) / np.sqrt(M)
    assert abs(mean - cont.skipped_flux[0, 0]) < 4.0 * err
    rms = cont.rel_rms[0, 0] * cont.mean_flux[0, 0]
    assert 0.75 < vals.std(ddof=1) / rms < 1.3


def test_window_sources_average_to_the_window_mean():
    """Sources inside the window, aged between T/5 and T (finite variance), average to the
    quadrature mean G_c(T) - G_c(T/5) of the same region."""
    spec = _spec(E=(1e4, 1e4))
    g = replace(cm.make_grid(spec), rho=np.full((1, 1), 3.0))
    cls = spec.classes[0]
    T = g.T[0, 0]
    m_T = cm.class_means(spec, cls, g)
    m_a = cm.class_means(spec, cls, replace(g, T=g.T / 5.0))
    norm = cls.rate_per_Myr * m_T.A[0] * m_T.S1[0, 0] * np.exp(g.lnpref[0, 0])
    expected = norm * (m_T.window[0, 0] - m_a.window[0, 0])
    open_grid = replace(g, T=np.full((1, 1), 1e9), rho=np.full((1, 1), 1e9))
    rng = np.random.default_rng(3)
    vals = np.array(
        [sum_sources(open_grid, spec.H_kpc, _draw(spec, rng, 0.0, 3.0, T / 5.0, T)).J[0, 0] for _ in range(400)]
    )
    assert abs(vals.mean() - expected) < 4.0 * vals.std(ddof=1) / np.sqrt(vals.size)
    assert abs(vals.mean() / expected - 1.0) < 0.05


def test_default_population_meets_its_skip_criterion():
    spec = spec_from_dict({"population": {"composition": "protons", "points_per_decade": 1}})
    cont = cm.continuum(spec)
    assert np.all(cont.rel_rms <= spec.skip_rms_max)
    assert np.all(cont.grid.rho >= spec.rho_min_kpc)


def test_unreachable_skip_criterion_is_a_config_error():
    from crknee.errors import ConfigError

    spec = spec_from_dict({"population": {"composition": "protons", "points_per_decade": 1, "skip_rms_max": 1e-6}})
    with pytest.raises(ConfigError, match="population.skip_rms_max"):
        cm.continuum(spec)

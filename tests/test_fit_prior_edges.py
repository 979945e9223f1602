"""crknee.fit.summary: the prior-edge flag (a posterior piled against a bound) beside the
width-based prior-dominance flag."""

import numpy as np
import pytest
from scipy.stats import norm, truncnorm

from crknee.fit.parameters import ParameterSet
from crknee.fit.summary import EDGE_RATIO, edge_density_ratios, posterior_table

UNITS = {"l_deg": "deg", "d_kpc": "kpc", "log10_E_erg": "", "Rcut_PV": "PV"}
SPEC = {
    "l_deg": {"value": 0.0, "min": -180.0, "max": 180.0, "periodic": True},
    "d_kpc": {"value": 2.5, "min": 0.1, "max": 10.0},
    "log10_E_erg": {"value": 50.0, "min": 46.0, "max": 54.0},
    "Rcut_PV": {"value": 5.0, "min": 0.1, "max": 100.0},
}


def _truncnorm(rng, mu, sigma, lo, hi, n):
    return truncnorm.rvs((lo - mu) / sigma, (hi - mu) / sigma, loc=mu, scale=sigma, size=n, random_state=rng)


def _table(n, d, w, r, seed=3):
    rng = np.random.default_rng(seed)
    l = np.rad2deg(rng.vonmises(np.pi, 8.0, n))  # centred on the anti-centre, on the old wall
    samples = np.column_stack([l, d(rng, n), w(rng, n), r(rng, n)])
    table = posterior_table(samples, np.zeros(n), ParameterSet.from_config(SPEC, UNITS))
    return {row["parameter"]: row for row in table}


@pytest.mark.parametrize("n", [3000, 200_000])
def test_piled_d_and_W_are_flagged_interior_and_periodic_are_not(n):
    rows = _table(
        n,
        # d piled against 10 kpc: a half-normal of width 2 kpc folded at the bound
        lambda rng, n: 10.0 - np.abs(rng.normal(0.0, 2.0, n)) % 9.9,
        # log10 W rising to the 54 edge: a normal peaked beyond the bound, truncated
        lambda rng, n: _truncnorm(rng, 54.3, 0.4, 46.0, 54.0, n),
        # R_cut well inside: the paper-like 5 PV +- 0.8 PV
        lambda rng, n: rng.normal(5.0, 0.8, n),
    )
    d, w, r, l = rows["d_kpc"], rows["log10_E_erg"], rows["Rcut_PV"], rows["l_deg"]
    assert d["at_prior_edge"] and d["edge"] == "max"
    assert w["at_prior_edge"] and w["edge"] == "max"
    # the width test does not catch W: its 68 % interval is narrow beside the 8-dex prior
    assert not w["prior_dominated"]
    assert not r["at_prior_edge"] and r["edge"] == "none" and r["edge_density_ratio"] == 0.0
    assert not l["at_prior_edge"] and not l["prior_dominated"]


def test_lower_edge_and_flat_posterior():
    rows = _table(
        50_000,
        lambda rng, n: rng.uniform(0.1, 10.0, n),
        lambda rng, n: rng.normal(50.0, 0.5, n),
        lambda rng, n: 0.1 + rng.exponential(1.0, n),
    )  # R_cut piled at its 0.1 PV minimum
    assert rows["Rcut_PV"]["edge"] == "min"
    # a flat posterior: both bounds set its interval
    assert rows["d_kpc"]["edge"] == "min+max" and rows["d_kpc"]["prior_dominated"]
    assert not rows["log10_E_erg"]["at_prior_edge"]


@pytest.mark.parametrize(
    "mu, sigma, flagged",
    [
        (8.0, 0.6, False),  # the bound 3.3 sigma above the peak: density there 4e-3 of the maximum
        (8.6, 0.8, False),  # 1.75 sigma: density 0.22 of the maximum, edge bin 0.33 of the top bin
        (9.0, 0.9, True),  # 1.1 sigma: density 0.54 of the maximum, edge bin 0.67 of the top bin
        (9.5, 1.0, True),  # 0.5 sigma: 0.88 of the maximum, the bound cuts the posterior's core
    ],
)
def test_edge_criterion_follows_the_density_at_the_bound(mu, sigma, flagged):
    rng = np.random.default_rng(5)
    x = _truncnorm(rng, mu, sigma, 0.1, 10.0, 400_000)
    p16, p84 = np.percentile(x, [15.87, 84.13])
    lo, hi = edge_density_ratios(x, 0.1, 10.0, p16, p84)
    assert lo == 0.0
    # the exact ratio: probability of the edge bin over that of the most probable bin of
    # width h aligned on the bound (normal CDF differences)
    h = min(0.05 * 9.9, 0.25 * (p84 - p16))
    edges = 10.0 - h * np.arange(int(9.9 / h) + 1)
    prob = -np.diff(norm.cdf(edges, mu, sigma))
    assert hi == pytest.approx(prob[0] / prob.max(), abs=0.03)
    assert (hi >= EDGE_RATIO) == flagged


def test_every_sample_at_one_value():
    assert edge_density_ratios(np.full(10, 10.0), 0.1, 10.0, 10.0, 10.0) == (0.0, 1.0)
    assert edge_density_ratios(np.full(10, 5.0), 0.1, 10.0, 5.0, 5.0) == (0.0, 0.0)

"""crknee.fit.summary (percentiles, MAP, prior dominance) and pool selection errors."""

import importlib.util

import numpy as np
import pytest

from crknee.errors import ConfigError
from crknee.fit.parameters import ParameterSet
from crknee.fit.pools import open_pool
from crknee.fit.summary import burn_thin, posterior_table


def test_posterior_table_percentiles_map_and_prior_dominance():
    ps = ParameterSet.from_config(
        {"l_deg": {"value": 0.0, "min": -180.0, "max": 180.0}, "d_kpc": {"value": 2.0, "min": 0.0, "max": 10.0}},
        {"l_deg": "deg", "d_kpc": "kpc"},
    )
    rng = np.random.default_rng(4)
    n = 200_000
    samples = np.column_stack([rng.uniform(-180, 180, n), rng.normal(2.0, 0.1, n)])
    logp = -0.5 * ((samples[:, 1] - 2.0) / 0.1) ** 2
    t = posterior_table(samples, logp, ps, ratio=0.7)
    l_row, d_row = t
    assert l_row["prior_dominated"] and not d_row["prior_dominated"]
    assert l_row["width_ratio"] == pytest.approx(1.0, abs=0.01)
    assert d_row["median"] == pytest.approx(2.0, abs=0.002)
    assert (d_row["p16"], d_row["p84"]) == pytest.approx((1.9, 2.1), abs=0.002)
    assert d_row["map"] == pytest.approx(2.0, abs=0.005)
    assert d_row["width_ratio"] == pytest.approx(0.2 / (0.6827 * 10.0), rel=0.01)


def test_burn_in_and_thinning():
    assert burn_thin(1000, [10.0, 20.0]) == (40, 5)
    assert burn_thin(1000, [np.nan, 20.0]) == (500, 1)
    assert burn_thin(30, [20.0]) == (15, 1)


def test_pool_errors():
    with pytest.raises(ConfigError, match="fit.sampler.pool"):
        with open_pool("slurm"):
            pass
    with pytest.raises(ConfigError, match="workers"):
        with open_pool("process", workers=0):
            pass


@pytest.mark.skipif(importlib.util.find_spec("schwimmbad") is not None, reason="schwimmbad installed")
def test_mpi_without_schwimmbad_is_a_clear_error():
    with pytest.raises(ConfigError, match="schwimmbad"):
        with open_pool("mpi"):
            pass

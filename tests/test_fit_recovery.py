"""Synthetic data made by the model with known parameters are recovered (seeded)."""

import os

import pytest

from crknee.fit.likelihood import LogPosterior
from crknee.fit.mock import mock_pieces
from crknee.fit.model import KneeSourceModel
from crknee.fit.sampler import SamplerSettings, run
from crknee.fit.summary import posterior_table, read_chain
from test_fit_support import TRUTH, layout_pieces, parameters, synthetic_fixed

REDUCED = os.environ.get("CRKNEE_REDUCED") == "1"
# d and t are degenerate along d/t (amplitude 3d/2ct) with these mock data: fix d
FIXED = ("b_deg", "d_kpc", "beta")


def _fit(tmp_path, noise, seed):
    model = KneeSourceModel(synthetic_fixed())
    ps = parameters(fixed=FIXED)
    pieces = mock_pieces(model, ps.full(ps.truth())[0], layout_pieces(), seed=seed, noise=noise)
    settings = SamplerSettings(
        nwalkers=32, nsteps=800 if REDUCED else 2000, seed=seed, check_every=200, n_tau=20, moves="de", progress=False
    )
    res = run(LogPosterior(ps, model, pieces), ps, settings, tmp_path / "chain.h5")
    samples, logp, names = read_chain(tmp_path / "chain.h5", res.tau)
    return posterior_table(samples, logp, ps), res


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::crknee.fit.sampler.NotConvergedWarning")
def test_noiseless_mock_recovered_within_68_percent(tmp_path):
    table, res = _fit(tmp_path, noise=False, seed=5)
    for row in table:
        truth = TRUTH[row["parameter"]]
        assert row["p16"] <= truth <= row["p84"], row
        assert not row["prior_dominated"]
    assert abs(table[0]["map"] - TRUTH["l_deg"]) < 5.0  # l from the phases (10 deg errors)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::crknee.fit.sampler.NotConvergedWarning")
def test_noisy_mock_recovered(tmp_path):
    table, res = _fit(tmp_path, noise=True, seed=8)
    for row in table:
        half = 0.5 * (row["p84"] - row["p16"])
        assert abs(row["median"] - TRUTH[row["parameter"]]) < 2.5 * half, row  # seeded: deterministic

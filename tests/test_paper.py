"""The paper's published numbers are held once (crknee.paper) and read consistently."""

import numpy as np
import pytest

from crknee import paper
from crknee.catalogs import synthetic_posterior
from crknee.fit.driver import format_summary
from crknee.report import PAPER


def test_longitude_wraps_onto_the_fit_axis():
    assert paper.knee_source_signed_l()["l_deg"] == (-22.6, 34.7, 44.5)
    assert paper.KNEE_SOURCE["l_deg"][0] == 337.4  # the paper's own axis is untouched


def test_every_consumer_reads_the_same_values():
    m, lo, hi = paper.KNEE_SOURCE["d_kpc"]
    assert PAPER["knee_source"]["d_kpc"] == pytest.approx([m - lo, m, m + hi])
    post = synthetic_posterior(paper.KNEE_SOURCE, 4001)
    assert np.median(post["d_kpc"].value) == pytest.approx(m, abs=0.03)
    assert PAPER["table1"]["D0_cm2_s"] == 3.2e28 and PAPER["table2"]["V4641 Sgr"]["beta"] == 2.2


def test_the_fit_summary_prints_a_given_reference_beside_each_parameter():
    row = {"median": 2.0, "minus": 0.1, "plus": 0.2, "map": 2.0, "prior_dominated": False}
    summary = {
        "active_constraints": ["x"],
        "checks": [],
        "inactive_datasets": [],
        "anisotropy_active": True,
        "posterior": {"d_kpc": row, "beta": dict(row)},
        "method": "emcee",
        "converged": True,
        "iterations": 10,
        "nwalkers": 4,
        "n_tau_reached": 60.0,
        "tau": {"d_kpc": 1.0},
        "n_tau_required": 50,
        "acceptance_fraction": 0.3,
        "evaluations_per_s": 1e3,
        "wall_s": 1.0,
    }
    lines = format_summary(summary, paper.knee_source_signed_l()).splitlines()
    d_line = next(x for x in lines if x.startswith("d_kpc"))
    assert d_line.endswith("2.64 +0.44 -0.45")  # the paper's d = 2.64 (+0.44/-0.45) kpc
    assert next(x for x in lines if x.startswith("beta")).rstrip().endswith(" 2")  # no reference for beta
    assert "paper" not in format_summary(summary).splitlines()[3]

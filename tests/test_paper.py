"""The paper's published numbers are held once (crknee.paper) and read consistently."""
import numpy as np
import pytest

from crknee import paper
from crknee.catalogs import synthetic_posterior
from crknee.fit.driver import PAPER_POSTERIOR
from crknee.report import PAPER


def test_longitude_wraps_onto_the_fit_axis():
    assert paper.knee_source_signed_l()["l_deg"] == (-22.6, 34.7, 44.5)
    assert paper.KNEE_SOURCE["l_deg"][0] == 337.4  # the paper's own axis is untouched


def test_every_consumer_reads_the_same_values():
    m, lo, hi = paper.KNEE_SOURCE["d_kpc"]
    assert PAPER["knee_source"]["d_kpc"] == pytest.approx([m - lo, m, m + hi])
    assert PAPER_POSTERIOR["d_kpc"] == (m, hi, lo)
    post = synthetic_posterior(paper.KNEE_SOURCE, 4001)
    assert np.median(post["d_kpc"].value) == pytest.approx(m, abs=0.03)
    assert PAPER["table1"]["D0_cm2_s"] == 3.2e28 and PAPER["table2"]["V4641 Sgr"]["beta"] == 2.2

"""The paper's published numbers are held once (crknee.paper) and read consistently."""
import pytest

from crknee import paper
from crknee.catalogs import PAPER_RESULT
from crknee.fit.driver import PAPER_POSTERIOR
from crknee.report import PAPER


def test_longitude_wraps_onto_the_fit_axis():
    assert paper.knee_source_signed_l()["l_deg"] == (-22.6, 34.7, 44.5)
    assert paper.KNEE_SOURCE["l_deg"][0] == 337.4  # the paper's own axis is untouched


def test_every_consumer_reads_the_same_values():
    m, lo, hi = paper.KNEE_SOURCE["d_kpc"]
    assert PAPER["knee_source"]["d_kpc"] == pytest.approx([m - lo, m, m + hi])
    assert PAPER_POSTERIOR["d_kpc"] == (m, hi, lo)
    assert PAPER_RESULT["d"][0].value == m and PAPER_RESULT["l"][0].value == 337.4
    assert PAPER["table1"]["D0_cm2_s"] == 3.2e28 and PAPER["table2"]["V4641 Sgr"]["beta"] == 2.2

"""crknee.fit.recovery: the injection-recovery study (issue 17, item 7) on the synthetic
fixture of test_fit_support: noiseless mock data at the paper's position, the anti-centre
(on the +-180 deg seam of the periodic longitude) and l = 90 deg are recovered within
their 68 % intervals; the coverage count and the circular inside test are exact."""

import pytest
from astropy.table import QTable

from crknee.errors import ConfigError
from crknee.fit.model import KneeSourceModel
from crknee.fit.parameters import ParameterSet
from crknee.fit.recovery import POSITIONS, coverage, injected_values, injection_recovery
from crknee.fit.sampler import SamplerSettings
from crknee.fit.schema import FitProblem
from test_fit_support import BOUNDS, TRUTH, layout_pieces, synthetic_fixed

#: the fixture's 5 amplitudes + 5 phases fix d/t only (amplitude ~ d/t): t fixed, as the
#: protons' spectrum would in the real fit; l periodic (no wall at the anti-centre)
FIXED = ("b_deg", "beta", "age_Myr")


def _problem():
    spec = {
        n: {
            "value": TRUTH[n],
            "min": lo,
            "max": hi,
            "prior": "fixed" if n in FIXED else "uniform",
            **({"periodic": True} if n == "l_deg" else {}),
        }
        for n, (lo, hi) in BOUNDS.items()
    }
    ps = ParameterSet.from_config(spec, KneeSourceModel.parameters)
    return FitProblem(ps, KneeSourceModel(synthetic_fixed()), layout_pieces(), SamplerSettings())


def test_noiseless_mock_recovered_at_three_positions(tmp_path):
    settings = SamplerSettings(method="dynesty", nlive=50, dlogz=0.5, batch=32, seed=3, progress=False)
    table = injection_recovery(_problem(), settings, tmp_path, n_trials=0, asimov=True)
    assert len(table) == 2 * len(POSITIONS) and set(table["trial"]) == {-1}
    for r in table:
        assert r["inside_68"], (
            f"{r['position']}: {r['parameter']} truth {r['truth']} outside [{r['p16']:.3g}, {r['p84']:.3g}]"
        )
        assert not r["at_prior_edge"]
    l_rows = {str(r["position"]): r for r in table if r["parameter"] == "l_deg"}
    # the anti-centre posterior is whole across the seam: its 68 % interval wraps round +-180 deg
    anti = l_rows["anti-centre"]
    assert anti["p16"] > 90.0 and anti["p84"] < -90.0 and anti["minus"] + anti["plus"] < 60.0
    assert coverage(table) == {}  # the noiseless trials are not counted
    # rerun: every trial is read back from its checkpoint, same numbers
    again = injection_recovery(_problem(), settings, tmp_path, n_trials=0, asimov=True)
    assert list(again["median"]) == list(table["median"])


def test_coverage_counts_noisy_trials_and_the_circle():
    rows = [
        ("a", -1, "l_deg", 0, 0.0, 0.0, 0.0, 1.0, 1.0, True),
        ("a", 0, "l_deg", 179.0, -179.0, -175.0, 178.0, 4.0, 3.0, True),
        ("a", 1, "l_deg", 179.0, -179.0, -175.0, 178.0, 1.0, 3.0, False),
        ("a", 0, "d_kpc", 2.0, 2.1, 1.8, 2.4, 0.3, 0.3, True),
        ("b", 0, "d_kpc", 2.0, 3.1, 2.8, 3.4, 0.3, 0.3, False),
    ]
    table = QTable(
        rows=rows,
        names=("position", "trial", "parameter", "truth", "median", "p16", "p84", "minus", "plus", "inside_68"),
    )
    assert coverage(table) == {("a", "l_deg"): (1, 2), ("a", "d_kpc"): (1, 1), ("b", "d_kpc"): (0, 1)}


def test_inside_is_taken_along_the_circle():
    from crknee.fit.recovery import _inside

    row = {"median": -179.0, "minus": 3.0, "plus": 1.0}
    assert _inside(row, 179.0, 360.0)  # 2 deg below the median, the short way round
    assert not _inside(row, 179.0, None)  # on a line it is 358 deg above
    assert not _inside(row, 176.0, 360.0)  # 5 deg below: outside minus = 3
    assert not _inside(row, -177.0, 360.0)  # 2 deg above: outside plus = 1


def test_injected_values_are_checked():
    ps = _problem().parameters
    v = injected_values(ps, {"l_deg": 180.0})
    assert v[ps.names.index("l_deg")] == 180.0 and v[ps.names.index("d_kpc")] == TRUTH["d_kpc"]
    with pytest.raises(ConfigError, match="'x_deg' is not one of"):
        injected_values(ps, {"x_deg": 1.0})
    with pytest.raises(ConfigError, match=r"d_kpc = 50.0 is outside its prior \[0.1, 10"):
        injected_values(ps, {"d_kpc": 50.0})

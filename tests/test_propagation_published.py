"""Published propagation fits and their comparison with ``crknee fit propagation`` (issue 15)."""

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from crknee.errors import InputError
from crknee.fit.propagation.outputs import fixed_values, report
from crknee.fit.propagation.parameters import PARAMETERS, parameter_set
from crknee.fit.propagation.published import (
    GENOLINI2019,
    KORSMEIER2021,
    PUBLISHED,
    WEINRICH2020,
    WEINRICH2020_HALO,
    D0_at_1GV,
    D0_at_halo,
    Paper,
    PublishedValue,
    compare,
)
from crknee.fit.propagation.settings import load_settings
from crknee.fit.summary import posterior_table

TEST_PAPER = Paper("Test, Author & Other", 2000, "J 1, 1", "0000.00000", "test", "https://example.org")
DELTA_FIT = {"delta": {"median": 0.529, "minus": 0.024, "plus": 0.027}}


def test_every_published_entry_names_its_paper_model_and_where_it_was_read():
    for e in PUBLISHED:
        p = e.paper
        assert p.authors and p.title and 1990 < p.year < 2030
        assert re.fullmatch(r"\d{4}\.\d{4,5}", p.arxiv), p.arxiv
        assert p.read_at.startswith("https://")
        assert e.parameter in PARAMETERS and e.model
        assert "abstract" in e.location or "Table" in e.location
        assert "'" in e.location  # a quote of the text read
        if e.parameter == "D0_1e28_cm2_s":
            assert e.R0_GV is not None  # the rigidity its D is quoted at
    # the issue: at least two published fits beyond Table 1, each with delta
    assert len({e.paper for e in PUBLISHED if e.parameter == "delta"}) >= 2


def test_D0_conversions_by_hand():
    # D ~ R^0.5: D(1 GV) = D(4 GV) / 2; D0/H fixed: halving H halves D0
    assert D0_at_1GV(4.0, 4.0, 0.5) == pytest.approx(2.0, rel=1e-15)
    assert D0_at_halo(2.0, 9.0, 4.5) == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(InputError, match="H_from_kpc"):
        D0_at_halo(2.0, 0.0, 4.5)
    # through compare: 4e28 cm2/s at 4 GV, delta 0.5, H = 9 kpc -> 1.0e28 at 1 GV and H = 4.5 kpc
    entry = PublishedValue(
        TEST_PAPER,
        "D0_1e28_cm2_s",
        "test model",
        4e28,
        0.4e28,
        0.4e28,
        "sigma",
        "abstract: 'test'",
        unit="cm2 / s",
        H_kpc=9.0,
        R0_GV=4.0,
        delta_for_R0=0.5,
        power_law_to_1GV=True,
    )
    (row,) = compare({"D0_1e28_cm2_s": {"median": 1.3, "minus": 0.1, "plus": 0.2}}, {"H_kpc": 4.5}, [entry])
    assert row["published_value"] == pytest.approx(1.0, rel=1e-12)
    # published error 0.4e28 * (1/4)^0.5 * (4.5/9) = 0.1e28; fit above: its minus side 0.1
    assert row["pull_sigma"] == pytest.approx(0.3 / math.hypot(0.1, 0.1), rel=1e-12)
    assert "D0/H" in row["verdict"] and "R0 4 -> 1 GV" in row["verdict"]


def test_D0_is_not_compared_without_halo_height_or_exact_R0():
    fit = {"D0_1e28_cm2_s": {"median": 1.5, "minus": 0.2, "plus": 0.2}}
    k10 = next(e for e in PUBLISHED if e.paper is GENOLINI2019 and e.parameter == "D0_1e28_cm2_s")
    (row,) = compare(fit, {"H_kpc": 4.5}, [k10])
    assert row["verdict"].startswith("not compared: halo height") and row["pull_sigma"] is None
    broken = PublishedValue(
        TEST_PAPER,
        "D0_1e28_cm2_s",
        "m",
        1.0,
        0.1,
        0.1,
        "sigma",
        "abstract: 'x'",
        unit="1e28 cm2 / s",
        H_kpc=4.5,
        R0_GV=10.0,
    )
    (row,) = compare(fit, {"H_kpc": 4.5}, [broken])
    assert row["verdict"].startswith("not compared: quoted at 10 GV")


def test_kpc2_per_Myr_to_crknee_unit_by_hand():
    k10 = next(e for e in PUBLISHED if e.paper is GENOLINI2019 and e.parameter == "D0_1e28_cm2_s")
    kpc_cm = 3.0856775814913673e21  # IAU 2015 parsec x 1e3
    Myr_s = 1e6 * 365.25 * 86400.0  # Julian year
    value, minus, plus = k10.in_crknee_unit()
    assert value == pytest.approx(0.31 * kpc_cm**2 / Myr_s / 1e28, rel=1e-12)
    assert minus == plus == pytest.approx(0.05 * kpc_cm**2 / Myr_s / 1e28, rel=1e-12)


def test_pull_uses_the_error_facing_the_other_value():
    weinrich = next(e for e in PUBLISHED if e.paper is WEINRICH2020 and e.parameter == "delta")
    (row,) = compare(DELTA_FIT, {}, [weinrich])
    assert row["pull_sigma"] == pytest.approx(0.029 / math.hypot(0.024, 0.03), rel=1e-12)
    # fit below: its plus side (0.04) and the published minus side (0.03): -0.05 / 0.05
    asym = PublishedValue(TEST_PAPER, "delta", "m", 0.50, 0.03, 0.9, "sigma", "abstract: 'x'")
    (row,) = compare({"delta": {"median": 0.45, "minus": 0.9, "plus": 0.04}}, {}, [asym])
    assert row["pull_sigma"] == pytest.approx(-1.0, rel=1e-12)


def test_fixed_parameter_has_no_error_of_its_own():
    halo = next(e for e in PUBLISHED if e.paper is WEINRICH2020_HALO)  # L = 5 +3 -2 kpc
    (row,) = compare({}, {"H_kpc": 4.5}, [halo])
    assert row["pull_sigma"] == pytest.approx(-0.25, rel=1e-12) and row["fit"] == "4.5 (fixed)"


def test_ranges_and_limits_are_checked_not_pulled():
    with_convection = next(e for e in PUBLISHED if e.paper is KORSMEIER2021 and "with convection" in e.model)
    verdict = {
        med: compare({"delta": {"median": med, "minus": minus, "plus": 0.02}}, {}, [with_convection])[0]
        for med, minus in ((0.45, 0.02), (0.529, 0.024), (0.52, 0.03))
    }
    assert verdict[0.45]["verdict"].startswith("median inside") and verdict[0.45]["pull_sigma"] is None
    assert verdict[0.529]["verdict"] == "median above the range; 68 % interval misses it"
    assert verdict[0.52]["verdict"] == "median above the range; 68 % interval overlaps it"
    limit = next(e for e in PUBLISHED if e.paper is KORSMEIER2021 and e.kind == "lower_limit")
    assert compare({}, {"H_kpc": 4.5}, [limit])[0]["verdict"] == "satisfies the limit"
    assert compare({}, {"H_kpc": 2.0}, [limit])[0]["verdict"] == "violates the limit"


def test_bad_entries_are_refused():
    with pytest.raises(InputError, match="unknown crknee parameter 'K0'"):
        PublishedValue(TEST_PAPER, "K0", "m", 1.0, 0.1, 0.1, "sigma", "abstract: 'x'")
    with pytest.raises(InputError, match="needs minus > 0"):
        PublishedValue(TEST_PAPER, "delta", "m", 0.5, None, None, "sigma", "abstract: 'x'")


def test_report_and_summary_compare_with_at_least_two_published_fits():
    params = parameter_set(load_settings()["parameters"])
    rng = np.random.default_rng(1)
    cols = []
    for p in params.free:
        centre = 0.529 if p.name == "delta" else p.value
        cols.append(np.clip(rng.normal(centre, 0.01 * (p.max - p.min), 4000), p.min, p.max))
    samples = np.column_stack(cols)
    table = posterior_table(samples, np.zeros(len(samples)), params)
    posterior = {
        r["parameter"]: {"median": float(r["median"]), "minus": float(r["minus"]), "plus": float(r["plus"])}
        for r in table
    }
    rows = compare(posterior, fixed_values(params))
    json.dumps(rows, allow_nan=False)  # plain JSON for fit_summary.json
    summary = {
        "sampler": {"method": "emcee"},
        "chi2_at_median": {},
        "chi2_total": 0.0,
        "n_points": 0,
        "n_free": params.ndim,
        "posterior": posterior,
        "published_comparison": rows,
    }
    problem = SimpleNamespace(observables=[], settings={}, parameters=params)
    text = report(problem, table, summary, None)
    assert "| quantity | this fit | paper Table 1 |" in text and "| delta |" in text
    published = text.split("### Published fits")[1]
    table_rows = [line for line in published.splitlines() if line.startswith("| ") and "sigma" in line]
    papers = {line.split(" | ")[0] for line in table_rows}
    assert len(papers) >= 2, papers
    assert "Weinrich et al. 2020" in published and "Génolini et al. 2019" in published
    assert "Korsmeier & Cuoco 2021" in published and "Boschini et al. 2020" in published
    # the report computes the same table when the summary does not carry it
    del summary["published_comparison"]
    assert report(problem, table, summary, None) == text

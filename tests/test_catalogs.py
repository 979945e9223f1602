"""Unit tests of crknee.catalogs on hand-built tables (no bundled data needed)."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from crknee import paper
from crknee.catalogs import (
    HPD_CONVENTIONS,
    R_SUN,
    HPDRegion,
    find_candidates,
    galactic_plane_xy,
    merge,
    microquasar_positions,
    read_samples,
    standardise,
    synthetic_posterior,
    two_piece_normal,
)
from crknee.catalogs import distances as dist
from crknee.catalogs.binaries import normalise_name
from crknee.catalogs.frame import plane_xy_kpc
from crknee.errors import DataError, InputError


def catalogue(rows, **extra):
    """A contract-shaped catalogue: rows of (name, l, b, d, d_lo, d_hi) in deg and kpc."""
    names, l, b, d, lo, hi = (list(c) for c in zip(*rows))
    t = QTable(
        {
            "name": names,
            "l": l * u.deg,
            "b": b * u.deg,
            "distance": d * u.kpc,
            "distance_lo": lo * u.kpc,
            "distance_hi": hi * u.kpc,
            "class": ["HMXB"] * len(names),
        }
    )
    for k, v in extra.items():
        t[k] = v
    return t


def gaussian_posterior(l0_deg, d0_kpc, sigma_kpc, n, seed=1):
    """(l, d) samples of an isotropic Gaussian of width sigma on the plane around (l0, d0)."""
    rng = np.random.default_rng(seed)
    x0, y0 = (v.to_value(u.kpc) for v in galactic_plane_xy(l0_deg * u.deg, d0_kpc * u.kpc))
    x = x0 + sigma_kpc * rng.standard_normal(n) + R_SUN.to_value(u.kpc)
    y = y0 + sigma_kpc * rng.standard_normal(n)
    return np.rad2deg(np.arctan2(y, x)) % 360 * u.deg, np.hypot(x, y) * u.kpc


# --- frame -------------------------------------------------------------------------------
def test_source_at_l0_and_sun_distance_is_the_galactic_centre():
    x, y = galactic_plane_xy(0 * u.deg, 8.5 * u.kpc)
    assert abs(x.to_value(u.kpc)) < 1e-12 and abs(y.to_value(u.kpc)) < 1e-12


def test_frame_orientation_and_latitude_projection():
    x, y = galactic_plane_xy([90, 180] * u.deg, 1 * u.kpc)
    np.testing.assert_allclose(x.to_value(u.kpc), [-8.5, -9.5], atol=1e-12)
    np.testing.assert_allclose(y.to_value(u.kpc), [1.0, 0.0], atol=1e-12)
    x, _ = galactic_plane_xy(0 * u.deg, 2000 * u.pc, b=60 * u.deg)  # d cos b = 1 kpc
    assert x.to_value(u.kpc) == pytest.approx(-7.5)


@pytest.mark.parametrize(
    "l, d, b, word",
    [
        (np.nan * u.deg, 1 * u.kpc, 0 * u.deg, "l must be finite"),
        (0 * u.deg, 1 * u.kpc, 91 * u.deg, "b must lie"),
        (0 * u.deg, -1 * u.kpc, 0 * u.deg, "-1.0"),
        (0 * u.deg, 1 * u.s, 0 * u.deg, "length"),
    ],
)
def test_frame_rejects_bad_input(l, d, b, word):
    with pytest.raises(InputError, match=word):
        galactic_plane_xy(l, d, b)


# --- distance pdf ------------------------------------------------------------------------
def test_two_piece_lognormal_reproduces_median_and_percentiles():
    nodes = dist.distance_nodes_kpc([2.0], [1.0], [5.0], 2000)[0]
    assert np.median(nodes) == pytest.approx(2.0, rel=1e-3)
    assert np.mean(nodes < 1.0) == pytest.approx(0.1587, abs=1e-3)
    assert np.mean(nodes > 5.0) == pytest.approx(0.1587, abs=1e-3)
    assert np.all(nodes > 0)


def test_distance_flags_and_range_only_median():
    d, lo, hi = [2.0, np.nan, 3.0, np.nan], [1.0, 7.0, np.nan, np.nan], [3.0, 13.0, np.nan, np.nan]
    assert list(dist.distance_flag(d, lo, hi)) == [dist.FLAG_INTERVAL, dist.FLAG_RANGE, dist.FLAG_POINT, dist.FLAG_NONE]
    np.testing.assert_allclose(dist.median_kpc(d, lo, hi)[:3], [2.0, np.sqrt(91.0), 3.0])
    nodes = dist.distance_nodes_kpc(d, lo, hi, 10)
    assert np.all(nodes[2] == 3.0) and np.all(np.isnan(nodes[3]))


# --- catalogues --------------------------------------------------------------------------
GOOD = [("A", 10.0, 0.0, 2.0, 1.8, 2.2)]


@pytest.mark.parametrize(
    "row, word",
    [
        (("", 10.0, 0.0, 2.0, 1.8, 2.2), "empty name"),
        (("B", np.nan, 0.0, 2.0, 1.8, 2.2), "'B'.*l must be"),
        (("B", 10.0, 95.0, 2.0, 1.8, 2.2), "b must lie.*95"),
        (("B", 10.0, 0.0, -2.0, np.nan, np.nan), "distance must be NaN.*-2"),
        (("B", 10.0, 0.0, 2.0, 0.2, 0.3), "distance_hi 0.3 kpc below distance"),
        (("B", 10.0, 0.0, np.nan, 3.0, 2.0), "distance_lo must be < distance_hi"),
    ],
)
def test_bad_catalogue_rows_raise_data_error_naming_the_row(row, word):
    with pytest.raises(DataError, match=word):
        standardise(catalogue([GOOD[0], row]), "cat/test")


def test_missing_column_and_wrong_unit_raise_data_error():
    t = catalogue(GOOD)
    del t["distance_hi"]
    with pytest.raises(DataError, match="distance_hi"):
        standardise(t, "cat/test")
    t = catalogue(GOOD)
    t["distance"] = [2.0] * u.deg
    with pytest.raises(DataError, match="'distance' must be in kpc"):
        standardise(t, "cat/test")


def test_plain_columns_take_the_contract_units():
    t = catalogue(GOOD)
    t["distance"] = [2000.0] * u.pc
    t["l"] = [10.0]  # plain number: degrees by contract
    std = standardise(t, "cat/test")
    assert std["distance"][0] == 2 * u.kpc and std["l"][0] == 10 * u.deg


def test_merge_deduplicates_by_name_and_position_and_fills_distance():
    first = catalogue(
        [("Cygnus X-1", 71.33, 3.07, np.nan, np.nan, np.nan), ("SRC 1", 20.0, 1.0, np.nan, np.nan, np.nan)]
    )
    second = catalogue(
        [
            ("HD 226868", 71.33, 3.07, 2.1, 2.0, 2.2),  # same position
            ("OTHER NAME", 20.0 + 1 / 3600, 1.0, 3.0, 2.5, 3.5),  # 1 arcsec away
            ("SRC 2", 20.0 + 10 / 3600, 1.0, 4.0, 3.5, 4.5),
        ]
    )  # 10 arcsec: distinct
    merged = merge({"cat/first": first, "cat/second": second})
    assert list(merged["name"]) == ["Cygnus X-1", "SRC 1", "SRC 2"]
    assert merged["distance"][0] == 2.1 * u.kpc and merged["distance_catalog"][0] == "cat/second"
    assert merged["catalog"][0] == "cat/first" and merged["microquasar"][0] == "Cyg X-1"
    assert merged["distance"][1] == 3.0 * u.kpc


def test_microquasars_found_by_alternative_name():
    t = catalogue(
        [("4U 1908+05", 39.69, -2.24, 6.8, 5.5, 8.5), ("X", 5.0, 0.0, np.nan, np.nan, np.nan)],
        alt_names=["", "V4641 Sgr"],
    )
    mq = microquasar_positions(merge({"cat/t": t}))
    assert list(mq["name"]) == ["SS 433", "V4641 Sgr", "GRS 1915+105", "MAXI J1820+070", "Cyg X-1"]
    assert mq["distance"][0] == 6.8 * u.kpc and mq["distance_ref"][0] == "cat/t"
    # in the catalogue without a distance: position from it, cited distance from crknee.sources
    assert mq["l"][1] == 5.0 * u.deg and mq["catalog"][1] == "cat/t"
    assert mq["distance"][1] == 6.2 * u.kpc and "MacDonald" in mq["distance_ref"][1]
    assert mq["catalog"][2] == "crknee.sources.catalogue" and "Reid" in mq["distance_ref"][2]
    assert normalise_name("Granat 1736-297") == normalise_name("GRS 1736-297")


# --- HPD regions -------------------------------------------------------------------------
@pytest.mark.parametrize("convention", sorted(HPD_CONVENTIONS))
def test_hpd_regions_hold_their_probability_mass(convention):
    l, d = gaussian_posterior(330.0, 3.0, 0.5, 3000, seed=2)
    region = HPDRegion(l, d, convention=convention)
    fresh_l, fresh_d = gaussian_posterior(330.0, 3.0, 0.5, 4000, seed=3)
    dens = region.density_kpc2(*plane_xy_kpc(fresh_l.value, fresh_d.value))
    for mass, t in zip(region.masses, region.thresholds_kpc2):
        assert np.mean(dens >= t) == pytest.approx(mass, abs=0.03)
    assert HPD_CONVENTIONS["2d"][0] == pytest.approx(1 - np.exp(-0.5))
    assert HPD_CONVENTIONS["1d"][1] == pytest.approx(0.9545, abs=1e-4)


def test_hpd_rejects_bad_samples():
    l, d = gaussian_posterior(330.0, 3.0, 0.5, 100)
    with pytest.raises(InputError, match="convention 'x'"):
        HPDRegion(l, d, convention="x")
    with pytest.raises(InputError, match="at least"):
        HPDRegion(l[:10], d[:10])
    bad = d.copy()
    bad[5] = -1 * u.kpc
    with pytest.raises(InputError, match="sample 5"):
        HPDRegion(l, bad)
    with pytest.raises(InputError, match="degenerate"):
        HPDRegion(np.full(100, 10.0) * u.deg, np.linspace(1, 2, 100) * u.kpc)


# --- candidates --------------------------------------------------------------------------
CATALOGUE = [
    ("NEAR", 330.0, 0.2, 3.0, 2.8, 3.2),  # at the posterior peak, narrow interval
    ("BROAD", 330.5, 0.1, 3.0, 1.0, 9.0),  # same place, very uncertain distance
    ("FAR", 60.0, 0.0, 5.0, 4.5, 5.5),  # far from the posterior
    ("NODIST", 331.0, -1.0, np.nan, np.nan, np.nan),
    ("HIGH-B", 330.0, 7.0, 3.0, 2.8, 3.2),  # outside |b| < 5 deg
]


@pytest.fixture(scope="module")
def result():
    l, d = gaussian_posterior(330.0, 3.0, 0.4, 2000)
    region = HPDRegion(l, d, convention="2d")
    return region, find_candidates(region, merge({"cat/test": catalogue(CATALOGUE)}))


def test_posterior_on_a_catalogue_source_ranks_it_first(result):
    _, table = result
    assert table["name"][0] == "NEAR" and table["rank"][0] == 1
    assert table["p_in_1sigma"][0] > 0.9
    assert table[table["name"] == "FAR"]["p_in_2sigma"][0] == 0.0


def test_distance_uncertainty_lowers_the_probability_inside(result):
    _, table = result
    near, broad = (table[table["name"] == n][0] for n in ("NEAR", "BROAD"))
    assert broad["p_in_1sigma"] < 0.5 * near["p_in_1sigma"]


def test_missing_distances_are_listed_flagged_and_counted(result):
    region, table = result
    row = table[table["name"] == "NODIST"][0]
    assert row["distance_flag"] == "no distance" and np.ma.is_masked(row["rank"])
    assert np.isnan(row["p_in_1sigma"]) and table["name"][-1] == "NODIST"
    assert 2.4 < row["los_d_1sigma_min"].to_value(u.kpc) < 3.0 < row["los_d_1sigma_max"].to_value(u.kpc) < 3.6
    assert table.meta["n_no_distance"] == 1 and table.meta["n_outside_plane"] == 1
    assert table.meta["counts"]["cat/test"] == {
        "binaries": 5,
        "in_plane": 4,
        "in_plane_with_distance": 3,
        "in_plane_no_distance": 1,
    }
    assert "HIGH-B" not in table["name"]
    assert table.meta["hpd_thresholds_kpc-2"] == list(region.thresholds_kpc2)


def test_find_candidates_rejects_bad_options(result):
    region, _ = result
    binaries = merge({"cat/test": catalogue(CATALOGUE)})
    with pytest.raises(InputError, match="max_b"):
        find_candidates(region, binaries, max_b=-1 * u.deg)
    with pytest.raises(InputError, match="n_nodes"):
        find_candidates(region, binaries, n_nodes=0)


# --- samples -----------------------------------------------------------------------------
def test_read_samples_units_and_errors(tmp_path):
    path = tmp_path / "post.ecsv"
    QTable({"l_deg": [np.pi / 2, np.pi] * u.rad, "d_kpc": [2.0, 3.0]}).write(path)
    l, d = read_samples(path)
    np.testing.assert_allclose(l.to_value(u.deg), [90, 180])
    assert d.unit == u.kpc
    QTable({"l": [1.0], "d_kpc": [2.0]}).write(tmp_path / "bad.ecsv")
    with pytest.raises(DataError, match="l_deg"):
        read_samples(tmp_path / "bad.ecsv")
    (tmp_path / "junk.ecsv").write_text("not a table\x00")
    with pytest.raises(DataError, match="junk.ecsv"):
        read_samples(tmp_path / "junk.ecsv")


def test_paper_posterior_matches_the_quoted_result():
    t = synthetic_posterior(paper.KNEE_SOURCE, 40000, np.random.default_rng(5))
    l_med, l_minus, l_plus = paper.KNEE_SOURCE["l_deg"]
    l = (t["l_deg"].to_value(u.deg) - l_med + 180) % 360 - 180 + l_med  # unwrap around 337.4
    np.testing.assert_allclose(np.percentile(l, [15.87, 50, 84.13]), [l_med - l_minus, l_med, l_med + l_plus], atol=1.5)
    np.testing.assert_allclose(
        np.percentile(t["d_kpc"].to_value(u.kpc), [15.87, 50, 84.13]), [2.19, 2.64, 3.08], atol=0.02
    )
    with pytest.raises(InputError, match="minus"):
        two_piece_normal(1.0, 0.0, 1.0, 5, np.random.default_rng(0))


def test_map_names_at_most_the_top_candidates_for_a_broad_posterior():
    """A prior-dominated posterior (l free) holds many binaries: Fig. 10 names the
    MAX_LISTED best-ranked ones and counts the rest instead of overflowing the page."""
    from crknee.plots.xrb_map import MAX_LISTED, plot_xrb_map

    rng = np.random.default_rng(3)
    n_cat = 6 * MAX_LISTED
    rows = [
        (f"B{i}", l, 0.0, d, 0.9 * d, 1.1 * d)
        for i, (l, d) in enumerate(zip(rng.uniform(0, 360, n_cat), rng.uniform(0.3, 1.0, n_cat)))
    ]
    l = rng.uniform(0, 360, 3000) * u.deg
    d = rng.uniform(0.2, 2.5, 3000) * u.kpc
    region = HPDRegion(l, d)
    table = find_candidates(region, merge({"cat/test": catalogue(rows)}))
    inside = int(np.sum(table["density"].to_value(u.kpc**-2) >= region.thresholds_kpc2[0]))
    assert inside > MAX_LISTED
    fig = plot_xrb_map(table, region, microquasar_positions(table[:0]))
    listing = next(t.get_text() for t in fig.axes[0].texts if t.get_text().startswith("inside 1 sigma"))
    assert len(listing.splitlines()) == 1 + MAX_LISTED + 1
    assert f"and {inside - MAX_LISTED} more" in listing


def test_inside_mask_matches_the_region_thresholds(result):
    from crknee.catalogs import inside

    region, table = result
    one, two = inside(table, region, 1), inside(table, region, 2)
    assert np.all(two[one])  # the 1 sigma region lies inside the 2 sigma one
    assert table.meta["n_inside_1sigma"] == one.sum() and table.meta["n_inside_2sigma"] == two.sum()
    assert not one[table["name"] == "NODIST"][0] and one[table["name"] == "NEAR"][0]
    with pytest.raises(InputError, match="level"):
        inside(table, region, 3)

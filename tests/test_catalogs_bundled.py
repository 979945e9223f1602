"""crknee.catalogs on the bundled X-ray binary catalogues, the CLI and Fig. 10."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from crknee import paper
from crknee.catalogs import (
    DEFAULT_CATALOGS,
    HPDRegion,
    find_candidates,
    load_binaries,
    microquasar_positions,
    synthetic_posterior,
)
from crknee.cli import main
from crknee.errors import DataError

#: The paper's binaries inside its 1 sigma region (Sec. 3) that have a catalogue distance.
PAPER_HMXBS = ("IGR J16195-4945", "IGR J16374-5043", "IGR J16465-4507", "IGR J17544-2619")


@pytest.fixture(scope="module")
def binaries():
    return load_binaries()


@pytest.fixture(scope="module")
def paper_runs(binaries):
    post = synthetic_posterior(paper.KNEE_SOURCE, 20000, np.random.default_rng(0))
    out = {}
    for convention in ("1d", "2d"):
        region = HPDRegion(post["l_deg"], post["d_kpc"], convention=convention)
        out[convention] = region, find_candidates(region, binaries)
    return out


def test_bundled_catalogues_merge_without_losing_sources(binaries):
    assert binaries.meta["catalogs"] == list(DEFAULT_CATALOGS)
    neumann = binaries[binaries["catalog"] == "catalog/HMXB_Neumann2023"]
    assert len(neumann) == 169  # first catalogue: every row kept
    from_neumann = neumann["distance_catalog"] == "catalog/HMXB_Neumann2023"
    assert np.sum(np.isfinite(neumann["distance"].value) & from_neumann) == 127
    filled = neumann[neumann["distance_catalog"] == "catalog/HMXB_Fortin2023"]
    assert "RX J1739.4-2942" in filled["name"]  # = GRS 1736-297, distance from Fortin 2023
    names = set(binaries["name"])
    assert {"SS 433", "Cyg X-1", "XTE J1650-500", *PAPER_HMXBS} <= names


def test_microquasars_are_marked_from_the_catalogues(binaries):
    mq = microquasar_positions(binaries)
    assert all(c.startswith("catalog/") for c in mq["catalog"])  # every position from a catalogue
    ss433, cyg = mq[0], mq[4]
    assert ss433["distance"] == 6.806 * u.kpc and cyg["distance"] == 2.103 * u.kpc  # Neumann 2023
    # LMXBs: no distance in the bundled catalogues -> cited distances of crknee.sources
    assert [r.split()[0] for r in mq["distance_ref"][1:4]] == ["MacDonald", "Reid", "Atri"]
    assert mq["b"][3] > 5 * u.deg  # MAXI J1820+070 lies off the |b| < 5 deg plane


@pytest.mark.parametrize("convention", ["1d", "2d"])
def test_paper_candidates_inside_1sigma_of_the_paper_posterior(paper_runs, convention):
    region, table = paper_runs[convention]
    inside = table[table["density"].to_value(u.kpc**-2) >= region.thresholds_kpc2[0]]
    assert set(PAPER_HMXBS) <= set(inside["name"])
    xte = table[table["name"] == "XTE J1650-500"][0]
    assert xte["distance_flag"] == "no distance"
    assert np.isfinite(xte["los_d_1sigma_min"].value)  # its line of sight crosses the 1 sigma region
    assert table.meta["n_no_distance"] == int(np.sum(table["distance_flag"] == "no distance")) > 100


def test_cli_writes_table_and_figure(tmp_path, capsys):
    post = synthetic_posterior(paper.KNEE_SOURCE, 3000, np.random.default_rng(2))
    post.write(tmp_path / "post.ecsv")
    main(
        [
            "candidates",
            "--samples",
            str(tmp_path / "post.ecsv"),
            "--catalog",
            "catalog/HMXB_Neumann2023",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    table = QTable.read(tmp_path / "out" / "candidates.ecsv")
    assert table["name"][0] in PAPER_HMXBS and set(table["catalog"]) == {"catalog/HMXB_Neumann2023"}
    for suffix in ("png", "pdf"):  # Fig. 10
        assert (tmp_path / "out" / f"fig10_xrb_map.{suffix}").stat().st_size > 10000
    assert "inside 1 sigma" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["candidates", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "exactly one of" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["candidates", "--paper-posterior", "--catalog", "catalog/NoSuch", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "NoSuch" in capsys.readouterr().err
    with pytest.raises(DataError):
        load_binaries([])

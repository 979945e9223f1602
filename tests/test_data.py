"""crknee.data: bundled datasets, manifest, unit handling, energy variables, user data."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

from crknee import data
from crknee.data import store
from crknee.errors import DataError, InputError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared beside the checkout
ROOT = Path(__file__).resolve().parents[1]
FLUX_GEV = u.Unit("m-2 s-1 sr-1 GeV-1")


#: every test gets an empty per-user data folder (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("user_folder")


# ---------------------------------------------------------------- manifest and build
def test_manifest_matches_bundled_files():
    assert data.verify_manifest() == []
    listed = store.MANIFEST.read_text().splitlines()
    assert len(listed) == len(store.bundled_files())
    assert sum(line.endswith(".ecsv") for line in listed) == len(data.names())


def test_manifest_detects_changed_missing_and_extra_files(tmp_path):
    (tmp_path / "bundled").mkdir()
    (tmp_path / "bundled" / "a.txt").write_text("one")
    (tmp_path / "MANIFEST.sha256").write_text(store.manifest_text(tmp_path))
    assert store.verify_manifest(tmp_path) == []
    (tmp_path / "bundled" / "a.txt").write_text("two")
    assert store.verify_manifest(tmp_path) == ["checksum mismatch: bundled/a.txt"]
    (tmp_path / "bundled" / "b.txt").write_text("new")
    assert "not in manifest: bundled/b.txt" in store.verify_manifest(tmp_path)
    (tmp_path / "bundled" / "a.txt").unlink()
    assert "missing: bundled/a.txt" in store.verify_manifest(tmp_path)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data (the build input) is not present")
def test_build_script_reproduces_bundle(tmp_path):
    spec = importlib.util.spec_from_file_location("build_data", ROOT / "tools" / "build_data.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.main([str(SHARED), "--out", str(tmp_path)])
    assert (tmp_path / "MANIFEST.sha256").read_text() == store.MANIFEST.read_text()
    assert (tmp_path / "DATA.md").read_text() == (store.DATA_DIR / "DATA.md").read_text()
    assert not (tmp_path / "bundled" / "nuclear" / "dragon2").exists()
    assert not list((tmp_path / "bundled").rglob("DRAGON2_*"))  # GPL-2.0, crknee is MIT


# ---------------------------------------------------------------- every dataset
@pytest.mark.parametrize("name", data.names())
def test_every_dataset_loads_with_units_and_provenance(name):
    t = data.load(name)
    meta = t.meta
    assert meta["name"] == name and meta["quantity"] == name.split("/")[0]
    for key in ("experiment", "reference", "origin", "licence", "source_sha256"):
        assert str(meta[key]).strip(), key
    assert len(t) > 0
    if meta["quantity"] == "catalog":
        assert t["l"].unit == u.deg and t["distance"].unit == u.kpc
        assert np.all(np.isfinite(t["ra"].value)) and np.all(np.char.str_len(t["name"]) > 0)
        return
    if meta["quantity"] == "anisotropy":  # rows, flags and conventions: tests/test_data_anisotropy.py
        energy = np.where(np.isfinite(t["x"].value), t["x"].value, t["x_lo"].value)
        assert np.all(np.isfinite(energy) & (energy > 0))
        assert np.all(np.isfinite(t["y"].value) | (t["upper_limit"] & np.isfinite(t["y_ul"].value)))
        points = np.isfinite(t["y"].value) & ~t["amp_err_missing"]
        assert np.all(np.isfinite(t["y_err_lo"].value[points]) & np.isfinite(t["y_err_hi"].value[points]))
        return
    energy = t["x"].value
    assert np.all(np.isfinite(energy) & (energy > 0))
    assert np.all(np.isfinite(t["y"].value) & (t["y"].value >= 0))
    points = ~t["upper_limit"]
    assert np.all(np.isfinite(t["y_err_lo"].value[points]) & np.isfinite(t["y_err_hi"].value[points]))
    if meta["quantity"] in data.SPECTRA:
        assert meta["x_variable"] in ("Etot", "Ek", "Ekn", "R")
        xu = u.GV if meta["x_variable"] == "R" else u.GeV
        assert t["x"].unit == xu
        assert t["y"].unit == (u.Unit("m-2 s-1 sr-1") / xu if meta["quantity"] in data.FLUXES else u.one)
    elif meta["quantity"] == "gamma":
        assert t["x"].unit == u.TeV and t["y"].unit == u.Unit("erg cm-2 s-1")
        assert meta["source"] in ("V4641 Sgr", "SS 433")


def test_counts_per_quantity():
    counts = {q: len(data.names(q)) for q in data.QUANTITIES}
    assert counts == {
        "proton": 27,
        "helium": 17,
        "light": 7,
        "allparticle": 26,
        "bc": 9,
        "nuclei": 49,
        "ratio": 29,
        "lnA": 6,
        "anisotropy": 60,
        "gamma": 9,
        "catalog": 4,
    }


# ---------------------------------------------------------------- published values
def test_lhaaso_proton_first_bin_in_gev():
    # arXiv:2505.14447 (KISS transcription): first bin log10(E/PeV) in [-0.8, -0.7],
    # J = 8.084e-5 PeV^-1 m^-2 s^-1 sr^-1, stat 1.7e-7, sys 4.58e-6 (shared/data CSV).
    t = data.load("proton/LHAASO_2025_2505.14447_EPOSLHC")
    assert t["x"][0].to_value(u.GeV) == pytest.approx(1.7782794e5, rel=1e-12)
    assert t["x_lo"][0].to_value(u.GeV) == pytest.approx(10**5.2, rel=1e-7)
    assert t["y"][0].to_value(FLUX_GEV) == pytest.approx(8.084e-11, rel=1e-12)
    assert t["y_err_hi"][0].to_value(FLUX_GEV) == pytest.approx(np.hypot(1.7e-13, 4.58e-12), rel=1e-12)
    assert t["n_events"][0] == 236775


def test_ams02_bc_first_point_and_stat_only_errors():
    # AMS-02 Phys. Rep. 894 (2021): B/C = 0.2867 +- 0.0013 (stat) +- 0.0159 (sys) at R = 2.032 GV.
    t = data.load("bc/AMS02_2021_PhysRep")
    assert (t["x"][0], t["y"][0]) == (2.032 * u.GV, 0.2867 * u.one)
    assert t["y_err_lo"][0].value == pytest.approx(np.hypot(0.0013, 0.0159))
    assert data.load("bc/AMS02_2021_PhysRep", errors="stat")["y_err_lo"][0].value == pytest.approx(0.0013)


def test_total_only_uncertainties_refuse_stat():
    t = data.load("bc/AMS02_2018")
    assert np.allclose(t["y_err_hi"].value, t["y_tot_hi"].value)
    with pytest.raises(DataError, match="AMS02_2018"):
        data.load("bc/AMS02_2018", errors="stat")
    with pytest.raises(DataError, match="V4641Sgr_LHAASO"):
        data.load("gamma/V4641Sgr_LHAASO", errors="stat")
    with pytest.raises(InputError, match="'both'"):
        data.load("bc/AMS02_2018", errors="both")


def test_gamma_units_and_region_split():
    # HAWC SS 433 east lobe at 20 TeV: E^2 dN/dE = 9.6e-14 TeV cm^-2 s^-1; 1 TeV = 1.602176634 erg.
    east = data.load("gamma/SS433_HAWC_20TeV_lobes_east")
    assert len(east) == 1 and east.meta["region"] == "east lobe" and east.meta["source"] == "SS 433"
    assert east["y"][0].to_value("erg cm-2 s-1") == pytest.approx(9.6e-14 * 1.602176634, rel=1e-12)
    hess = data.load("gamma/SS433_HESS_east")
    assert hess["upper_limit"][-1] and not hess["upper_limit"][0]


def test_anisotropy_threshold_and_phase():
    eastop = data.load("anisotropy/EAS-TOP_1996_ApJ470_501")  # 3.73e-4 at 2e14 eV, 1.82 h = 27.3 deg
    assert eastop["x"][0] == 2e5 * u.GeV and eastop["y"][0].value == pytest.approx(3.73e-4)
    assert eastop["phase"][0] == 27.3 * u.deg
    auger = data.load("anisotropy/Auger_2020_ApJ891_142")  # E >= 8 EeV only, no phase
    assert np.isnan(auger["x"][0]) and auger["x_lo"][0] == 8e9 * u.GeV and np.isnan(auger["phase"][0])


def test_catalogue_distances():
    fortin = data.load("catalog/HMXB_Fortin2023")
    row = fortin[fortin["name"] == "IGR J00370+6122"][0]  # 3.401 (-0.171 +0.186) kpc
    assert row["distance"] == 3.401 * u.kpc
    assert row["distance_lo"].to_value(u.kpc) == pytest.approx(3.230) and row["distance_hi"].to_value(
        u.kpc
    ) == pytest.approx(3.587)
    neumann = data.load("catalog/HMXB_Neumann2023")
    row = neumann[neumann["name"] == "mu.02 Cru"][0]  # Mean/Low/High_Dist 123/118/130 pc
    assert (row["distance"], row["distance_lo"], row["distance_hi"]) == (0.123 * u.kpc, 0.118 * u.kpc, 0.13 * u.kpc)
    liu = data.load("catalog/LMXB_Liu2007")
    assert np.all(np.isnan(liu["distance"].value)) and liu.meta["distances_available"] is False
    assert "Avakyan" in liu.meta["notes"]


# ---------------------------------------------------------------- energy variables
def test_helium_per_gev_per_nucleon_to_per_gv_by_hand():
    # CREAM He first point: Ekn = 314.1 GeV/n, J = 1.38e-4 m^-2 s^-1 sr^-1 (GeV/n)^-1.
    # By hand (alpha mass 3.7273794 GeV, CODATA 2018): Etot = 4 Ekn + m, p = sqrt(Etot^2 - m^2),
    # R = p / 2, dEkn/dR = Z beta / A = beta / 2.
    m = 3.7273794
    etot = 4 * 314.1 + m
    p = np.sqrt(etot**2 - m**2)
    t = data.to_variable(data.load("helium/CREAM_2017"), "R")
    assert t["x"][0].to_value(u.GV) == pytest.approx(p / 2, rel=1e-7)
    assert t["y"][0].to_value("m-2 s-1 sr-1 GV-1") == pytest.approx(1.38e-4 * (p / etot) / 2, rel=1e-7)
    assert t.meta["x_variable"] == "R" and t.meta["converted_from"] == "Ekn"


def test_low_rigidity_jacobian_by_hand():
    # AMS-02 He at R = 2.031748 GV: p = 4.063496 GeV, Ekn = (sqrt(p^2+m^2) - m)/4, dR/dEkn = A / (Z beta).
    m = 3.7273794
    src = data.load("helium/AMS02_2017")
    t = data.to_variable(src, "Ekn")
    p = 2 * src["x"][0].to_value(u.GV)
    etot = np.hypot(p, m)
    assert t["x"][0].to_value(u.GeV) == pytest.approx((etot - m) / 4, rel=1e-6)
    assert (t["y"][0] / src["y"][0]).to_value(u.GV / u.GeV) == pytest.approx(4 / (2 * p / etot), rel=1e-6)


@pytest.mark.parametrize(
    "name,via", [("proton/AMS02_2015", "Ekn"), ("helium/DAMPE_2021", "R"), ("proton/CREAM_2017", "Etot")]
)
def test_to_variable_round_trip(name, via):
    t = data.load(name)
    back = data.to_variable(data.to_variable(t, via), t.meta["x_variable"])
    for col in ("x", "x_lo", "y", "y_err_lo", "y_sys_hi"):
        assert np.allclose(back[col].value, t[col].value, rtol=1e-12, equal_nan=True), col
        assert back[col].unit == t[col].unit


def test_to_variable_rules():
    bc = data.load("bc/AMS02_2021_PhysRep")
    moved = data.to_variable(bc, "Ekn", species="C12")
    assert np.array_equal(moved["y"].value, bc["y"].value) and moved["x"].unit == u.GeV
    with pytest.raises(InputError, match="species"):
        data.to_variable(bc, "Ekn")
    allp = data.load("allparticle/LHAASO_2024_QGSJETII04")
    assert np.array_equal(data.to_variable(allp, "Etot")["y"].value, allp["y"].value)
    with pytest.raises(InputError, match="no single species"):
        data.to_variable(allp, "R")
    with pytest.raises(InputError, match="'gamma'"):
        data.to_variable(data.load("gamma/V4641Sgr_HESS"), "Etot")
    with pytest.raises(InputError, match="'E'"):
        data.to_variable(allp, "E")


# ---------------------------------------------------------------- lookup errors
def test_unknown_names_and_raw_path():
    with pytest.raises(DataError, match="'proton/nope'"):
        data.load("proton/nope")
    with pytest.raises(DataError, match="'muon'"):
        data.names("muon")
    with pytest.raises(DataError, match="'AMS02_2015'"):
        data.load("AMS02_2015")
    assert data.raw_path("nuclear/crams/xsecs_0.1_100_1.1.txt").is_file()
    for bad in ("nuclear/dragon2/isotope_list.dat", "../__init__.py", "nuclear/crams"):
        with pytest.raises(DataError, match="no bundled file"):
            data.raw_path(bad)


# ---------------------------------------------------------------- user data
SPECTRUM_CSV = """# experiment: Test Array
# reference: Doe et al. 2030, J. Test 1, 1
# origin: hand-made test file
# x_variable: total energy per particle
# x_unit: PeV
# y_unit: PeV^-1 m^-2 s^-1 sr^-1
x,x_lo,x_hi,y,y_stat_lo,y_stat_hi,y_sys_lo,y_sys_hi,is_upper_limit
1.0,0.9,1.1,2.0e-5,1e-7,1e-7,1e-6,1e-6,0
2.0,1.8,2.2,3.0e-6,,,,,1
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_add_csv_then_load(tmp_path, user_folder):
    name = data.add(write(tmp_path, "TestArray_2030.csv", SPECTRUM_CSV), "proton")
    assert name == "proton/TestArray_2030" and name in data.names("proton")
    assert (user_folder / "proton" / "TestArray_2030.ecsv").is_file()
    t = data.load(name)
    assert t["x"][0] == 1e6 * u.GeV and t["y"][0].to_value(FLUX_GEV) == pytest.approx(2e-11)
    assert list(t["upper_limit"]) == [False, True] and t.meta["species"] == "H1"
    assert t.meta["experiment"] == "Test Array"


def test_user_add_replace_guard_and_bundled_shadow(tmp_path):
    path = write(tmp_path, "TestArray_2030.csv", SPECTRUM_CSV)
    data.add(path, "proton")
    with pytest.raises(DataError, match="--replace"):
        data.add(path, "proton")
    path.write_text(SPECTRUM_CSV.replace("2.0e-5", "4.0e-5"))
    data.add(path, "proton", replace=True)
    assert data.load("proton/TestArray_2030")["y"][0].to_value(FLUX_GEV) == pytest.approx(4e-11)
    with pytest.raises(DataError, match="bundled"):
        data.add(write(tmp_path, "AMS02_2015.csv", SPECTRUM_CSV), "proton")


def test_user_add_ecsv_gamma(tmp_path):
    from astropy.table import QTable

    t = QTable(
        {
            "x": [10.0, 20.0] * u.TeV,
            "y": [1e-12, 2e-12] * u.Unit("TeV cm-2 s-1"),
            "y_err_lo": [1e-13, 2e-13] * u.Unit("TeV cm-2 s-1"),
            "y_err_hi": [1e-13, 2e-13] * u.Unit("TeV cm-2 s-1"),
        },
        meta={"experiment": "LHAASO", "reference": "user-supplied test", "source": "SS 433"},
    )
    t.write(tmp_path / "SS433_mine.ecsv")
    got = data.load(data.add(tmp_path / "SS433_mine.ecsv", "gamma"))
    assert got["y"][1].to_value("erg cm-2 s-1") == pytest.approx(2e-12 * 1.602176634)


BAD_FILES = [
    ("missing experiment", SPECTRUM_CSV.replace("# experiment: Test Array\n", ""), "experiment"),
    ("missing reference", SPECTRUM_CSV.replace("# reference: Doe et al. 2030, J. Test 1, 1\n", ""), "reference"),
    ("missing x_unit", SPECTRUM_CSV.replace("# x_unit: PeV\n", ""), "x_unit"),
    ("unparseable unit", SPECTRUM_CSV.replace("# x_unit: PeV", "# x_unit: furlongs per fortnight"), "furlongs"),
    ("wrong dimension", SPECTRUM_CSV.replace("# x_unit: PeV", "# x_unit: m"), "does not fit x_variable"),
    ("bad x_variable", SPECTRUM_CSV.replace("total energy per particle", "energy"), "'energy'"),
    ("no y column", SPECTRUM_CSV.replace("x,x_lo,x_hi,y,", "x,x_lo,x_hi,z,"), "column 'y' is missing"),
    ("negative flux", SPECTRUM_CSV.replace("2.0e-5", "-2.0e-5"), "-2e-05"),
    ("non-numeric flux", SPECTRUM_CSV.replace("2.0e-5", "lots"), "'y' is not numeric"),
    ("short row", SPECTRUM_CSV.replace(",1e-6,1e-6,0", ",1e-6,0"), "has 8 cells"),
    ("no uncertainties", SPECTRUM_CSV.replace("1e-7,1e-7,1e-6,1e-6,0", ",,,,0"), "y_stat_lo/hi or y_tot_lo/hi"),
    ("bad flag", SPECTRUM_CSV.replace("1e-6,1e-6,0", "1e-6,1e-6,7"), "0/1"),
    ("no rows", "\n".join(SPECTRUM_CSV.splitlines()[:7]), "no rows"),
]


@pytest.mark.parametrize("why,text,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_user_add_rejects(tmp_path, user_folder, why, text, message):
    with pytest.raises(DataError, match=message):
        data.add(write(tmp_path, "Bad.csv", text), "proton")
    assert not (user_folder / "proton" / "Bad.ecsv").exists()


def test_user_add_rejects_files_and_quantities(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        data.add(tmp_path / "absent.csv", "proton")
    with pytest.raises(DataError, match="'.txt'"):
        data.add(write(tmp_path, "a.txt", SPECTRUM_CSV), "proton")
    with pytest.raises(DataError, match="'muon'"):
        data.add(write(tmp_path, "a.csv", SPECTRUM_CSV), "muon")
    with pytest.raises(DataError, match="not a readable ECSV"):
        data.add(write(tmp_path, "broken.ecsv", "# %ECSV 1.0\n# ---\n# garbage: [\nx y\n"), "proton")
    with pytest.raises(DataError, match="'source'"):
        data.add(
            write(
                tmp_path,
                "g.csv",
                "# experiment: A\n# reference: B\n# x_unit: TeV\n# y_unit: erg cm-2 s-1\n"
                "x,y,y_err_lo,y_err_hi\n1,1e-12,1e-13,1e-13\n",
            ),
            "gamma",
        )
    with pytest.raises(DataError, match="b must be within"):
        data.add(write(tmp_path, "c.csv", "# experiment: A\n# reference: B\nname,l,b,ra,dec\nX,10,95,1,1\n"), "catalog")


def test_corrupt_user_file_is_a_data_error(user_folder):
    (user_folder / "bc").mkdir(parents=True)
    (user_folder / "bc" / "Broken.ecsv").write_bytes(b"\x00\xff not ecsv")
    assert "bc/Broken" in data.names("bc")
    with pytest.raises(DataError, match="corrupt"):
        data.load("bc/Broken")


# ---------------------------------------------------------------- command line
def run_cli(argv, capsys):
    from crknee.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list_show_plot_add(tmp_path, capsys):
    code, out, _ = run_cli(["data", "list", "--quantity", "catalog"], capsys)
    assert code == 0 and "catalog/HMXB_Neumann2023\tNeumann M." in out and len(out.splitlines()) == 4
    code, out, _ = run_cli(["data", "show", "bc/AMS02_2021_PhysRep"], capsys)
    assert code == 0 and "experiment: AMS-02" in out and "0.2867" in out
    for quantity in ("helium", "bc", "anisotropy"):
        code, out, _ = run_cli(["data", "plot", quantity, "--out", str(tmp_path / f"{quantity}.png")], capsys)
        assert code == 0 and (tmp_path / f"{quantity}.png").stat().st_size > 10000
    code, out, _ = run_cli(
        ["data", "add", str(write(tmp_path, "Mine.csv", SPECTRUM_CSV)), "--quantity", "helium"], capsys
    )
    assert code == 0 and "added helium/Mine" in out
    code, out, _ = run_cli(["data", "verify"], capsys)
    assert code == 0 and "intact" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["data", "show", "proton/nope"], "unknown dataset 'proton/nope'"),
        (["data", "add", "/nonexistent/x.csv", "--quantity", "bc"], "no such file"),
        (["data", "list", "--quantity", "muon"], "'muon' is not one of"),
        (["data", "plot", "gamma", "--out", "x.png"], "'gamma' is not one of"),
    ],
)
def test_cli_errors_are_one_line(argv, message, capsys):
    code, _, err = run_cli(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_malformed_and_corrupt_files(tmp_path, user_folder, capsys):
    code, _, err = run_cli(["data", "add", str(write(tmp_path, "Bad.csv", BAD_FILES[0][1])), "-q", "proton"], capsys)
    assert code == 2 and err.count("\n") == 1 and "experiment" in err
    (user_folder / "proton").mkdir(parents=True)
    shutil.copy(tmp_path / "Bad.csv", user_folder / "proton" / "Corrupt.ecsv")
    code, _, err = run_cli(["data", "show", "proton/Corrupt"], capsys)
    assert code == 2 and err.startswith("error: dataset file") and "Traceback" not in err

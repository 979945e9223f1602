"""Element spectra (``nuclei``), element ratios (``ratio``, ``bc``) and the mean log mass (``lnA``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

from crknee import data
from crknee.data import store
from crknee.data.csvfile import read
from crknee.errors import DataError, InputError
from crknee.io import sha256_file
from crknee.kinematics import ELEMENT_SYMBOLS
from test_data import run_cli

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared beside the checkout
ROOT = Path(__file__).resolve().parents[1]
FAMILIES = {"nuclei": "cr/nuclei", "ratio": "cr/ratios", "lnA": "cr/lnA"}
NOT_BUNDLED = ("cr/nuclei/DAMPE_B.csv",)
# CODATA 2018: atomic mass unit and electron rest energy [GeV]
U_GEV, ME_GEV = 0.93149410242, 0.51099895000e-3
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data (the build input) is not present")


#: every test gets an empty per-user data folder (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("user_folder")


def build_module():
    spec = importlib.util.spec_from_file_location("build_data", ROOT / "tools" / "build_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_files():
    if not SHARED.is_dir():
        return []
    return [
        (q, p)
        for q, folder in FAMILIES.items()
        for p in sorted((SHARED / folder).glob("*.csv"))
        if p.relative_to(SHARED).as_posix() not in NOT_BUNDLED
    ]


# ---------------------------------------------------------------- every new file, with provenance
@needs_shared
@pytest.mark.parametrize("quantity,path", source_files(), ids=lambda v: getattr(v, "stem", v))
def test_every_source_file_is_bundled_with_its_rows_and_provenance(quantity, path):
    src, header = read(path)
    t = data.load(f"{quantity}/{path.stem}")
    assert len(t) == len(src)
    # every file is in GeV, GeV/n or GV (crknee's units): the numbers are the file's, untouched
    for col in ("x", "y", "y_stat_lo", "y_stat_hi", "y_sys_lo", "y_sys_hi"):
        assert np.array_equal(t[col].value, np.asarray(src[col]), equal_nan=True), col
    assert t.meta["source_header"] == header
    assert t.meta["source_file"] == path.relative_to(SHARED).as_posix()
    assert t.meta["source_sha256"] == sha256_file(path)
    assert "KISS-CosmicRayDataBase" in t.meta["origin"] and t.meta["licence"].startswith("MIT")
    what = t.meta["description"]  # the header's own words: "C flux", "B/O ratio", "mean logarithmic mass <lnA>"
    if quantity == "nuclei":
        assert t.meta["species"] in ELEMENT_SYMBOLS and what == f"{t.meta['species']} flux"
        assert path.stem.endswith("_" + t.meta["species"])
    elif quantity == "ratio":
        assert what == f"{t.meta['numerator']}/{t.meta['denominator']} ratio"
        assert f"_{t.meta['numerator']}_{t.meta['denominator']}" in path.stem
    else:
        assert t.meta["x_variable"] == "Etot" and np.all((t["y"].value >= 0) & (t["y"].value <= 4.53))


@needs_shared
def test_only_the_listed_file_is_left_out_and_the_build_says_why():
    bundled = {n.partition("/")[2] for q in FAMILIES for n in data.names(q)}
    left = [
        p.relative_to(SHARED).as_posix()
        for folder in FAMILIES.values()
        for p in (SHARED / folder).glob("*.csv")
        if p.stem not in bundled
    ]
    assert left == list(NOT_BUNDLED)
    build = build_module()
    assert "columns shifted" in build.not_bundled(SHARED / NOT_BUNDLED[0], SHARED)
    text = (store.DATA_DIR / "DATA.md").read_text()
    assert "`cr/nuclei/DAMPE_B.csv` | columns shifted" in text and "| nuclei | 49 |" in text


def test_species_and_ratios_covered():
    species = {data.load(n).meta["species"] for n in data.names("nuclei")}
    assert species == {"Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "S", "Ti", "Cr", "Fe", "Ni"}
    pairs = {(m["numerator"], m["denominator"]) for m in (data.load(n).meta for n in data.names("ratio"))}
    for pair in (
        ("B", "O"),
        ("Be", "B"),
        ("Li", "C"),
        ("Be", "C"),
        ("C", "O"),
        ("N", "O"),
        ("Ne", "O"),
        ("Mg", "O"),
        ("Si", "O"),
        ("Fe", "O"),
        ("H", "He"),
        ("F", "Si"),
    ):
        assert pair in pairs
    assert all(
        data.load(n).meta["numerator"] == "B" and data.load(n).meta["denominator"] == "C" for n in data.names("bc")
    )


def test_manifest_lists_the_new_families():
    listed = store.MANIFEST.read_text()
    assert data.verify_manifest() == []
    for quantity in FAMILIES:
        for name in data.names(quantity):
            assert f"bundled/{FAMILIES[quantity]}/{name.partition('/')[2]}.ecsv\n" in listed


# ---------------------------------------------------------------- published values and units
def test_ams02_carbon_per_gv_to_per_gev_per_nucleon_by_hand():
    # AMS-02 C (Phys. Rep. 894, 2021, via KISS/CRDB): R = 2.271 GV, J = 1.793 m^-2 s^-1 sr^-1 GV^-1,
    # stat 0.003, sys 0.052. By hand for C12 (the conversion nuclide of C): M = 12 u - 6 m_e,
    # p = Z R, Etot = sqrt(p^2 + M^2), Ekn = (Etot - M) / 12, dR/dEkn = A / (Z beta) = A Etot / (Z p).
    m = 12 * U_GEV - 6 * ME_GEV
    p = 6 * 2.271
    etot = np.hypot(p, m)
    src = data.load("nuclei/AMS02_C")
    assert src["x"][0] == 2.271 * u.GV and src["y"][0].to_value("m-2 s-1 sr-1 GV-1") == pytest.approx(1.793)
    assert src["y_err_lo"][0].to_value("m-2 s-1 sr-1 GV-1") == pytest.approx(np.hypot(0.003, 0.052))
    t = data.to_variable(src, "Ekn")
    assert t.meta["conversion_nuclide"] == "C12" and t.meta["species"] == "C" and t.meta["converted_from"] == "R"
    assert t["x"][0].to_value(u.GeV) == pytest.approx((etot - m) / 12, rel=1e-9)
    assert t["y"][0].to_value("m-2 s-1 sr-1 GeV-1") == pytest.approx(1.793 * 12 * etot / (6 * p), rel=1e-9)
    assert t["y_stat_lo"][0].to_value("m-2 s-1 sr-1 GeV-1") == pytest.approx(0.003 * 12 * etot / (6 * p), rel=1e-9)


def test_calet_iron_per_gev_per_nucleon_to_rigidity_with_fe56():
    # CALET Fe (PRL 126, 241101): Ekn = 11.21 GeV/n, J = 0.0025 m^-2 s^-1 sr^-1 (GeV/n)^-1.
    m = 55.93493633 * U_GEV - 26 * ME_GEV  # Fe56 atomic mass 55.93493633 u (AME2016, periodictable)
    ek = 56 * 11.21
    p = np.sqrt(ek * (ek + 2 * m))
    t = data.to_variable(data.load("nuclei/CALET_Fe"), "R")
    assert t.meta["conversion_nuclide"] == "Fe56"
    assert t["x"][0].to_value(u.GV) == pytest.approx(p / 26, rel=1e-7)
    beta = p / (ek + m)
    assert t["y"][0].to_value("m-2 s-1 sr-1 GV-1") == pytest.approx(0.0025 * 26 * beta / 56, rel=1e-7)


@pytest.mark.parametrize("name,via", [("nuclei/AMS02_B", "Ekn"), ("nuclei/CREAM_O", "R"), ("nuclei/DAMPE_Fe", "Etot")])
def test_element_spectrum_round_trip(name, via):
    t = data.load(name)
    back = data.to_variable(data.to_variable(t, via), t.meta["x_variable"])
    for col in ("x", "y", "y_err_lo", "y_stat_hi"):
        assert np.allclose(back[col].value, t[col].value, rtol=1e-12, equal_nan=True), col


def test_conversion_nuclide_convention_and_override():
    assert [data.conversion_nuclide(e) for e in ("Li", "Be", "B", "C", "N", "O", "Fe", "Ni")] == [
        "Li7",
        "Be9",
        "B11",
        "C12",
        "N14",
        "O16",
        "Fe56",
        "Ni58",
    ]
    be = data.load("nuclei/AMS02_Be")
    as_be7 = data.to_variable(be, "Ekn", species="Be7")
    as_be9 = data.to_variable(be, "Ekn")
    assert "conversion_nuclide" not in as_be7.meta and as_be9.meta["conversion_nuclide"] == "Be9"
    assert as_be7["x"][0] > as_be9["x"][0]  # lighter isotope: more kinetic energy per nucleon at the same R
    with pytest.raises(DataError, match="'Xx'"):
        data.conversion_nuclide("Xx")


def test_stat_only_errors_and_ratios_keep_their_values():
    t = data.load("nuclei/AMS02_O", errors="stat")
    assert np.array_equal(t["y_err_lo"].value, t["y_stat_lo"].value)
    ratio = data.load("ratio/AMS02_B_O")
    assert ratio["y"].unit == u.one and (ratio["x"][0], ratio["y"][0]) == (2.272 * u.GV, ratio["y"][0])
    moved = data.to_variable(ratio, "Ekn", species="O16")
    assert np.array_equal(moved["y"].value, ratio["y"].value)
    with pytest.raises(InputError, match="no single species"):
        data.to_variable(ratio, "Ekn")
    lna = data.load("lnA/Yakutsk_lnA")
    assert lna["y"].unit == u.one and np.array_equal(lna["y_err_lo"].value, lna["y_stat_lo"].value)  # sys 0 in the file


def test_lna_published_minimum_and_models():
    # LHAASO KM2A (PRL 132, 131002; KISS transcription): <lnA> = 1.387 +- 0.003 (stat) +- 0.0729 (sys)
    # at 3.548 PeV with QGSJET-II-04, the minimum of that table.
    t = data.load("lnA/LHAASO_QGSJETII04_lnA")
    i = int(np.argmin(t["y"].value))
    assert t["x"][i].to_value(u.PeV) == pytest.approx(3.548) and t["y"][i].value == pytest.approx(1.387)
    assert t["y_err_hi"][i].value == pytest.approx(np.hypot(0.003, 0.0729))
    models = {n: data.load(n).meta["hadronic_model"] for n in data.names("lnA")}
    assert models == {
        "lnA/KASCADE_Kuznetsov2024_lnA": None,
        "lnA/LHAASO_EPOSLHC_lnA": "EPOS-LHC",
        "lnA/LHAASO_QGSJETII04_lnA": "QGSJET-II-04",
        "lnA/LHAASO_SIBYLL2.3d_lnA": "SIBYLL-2.3d",
        "lnA/TALE_lnA": None,
        "lnA/Yakutsk_lnA": None,
    }
    assert data.load("proton/LHAASO_2025_2511.05013_SIBYLL23d").meta["hadronic_model"] == "SIBYLL-2.3d"


def test_ratio_names():
    assert data.ratio_names("B", "C") == data.names("bc")
    assert data.ratio_names("B", "O") == ["ratio/AMS02_B_O", "ratio/DAMPE_B_O"]
    assert data.ratio_names(denominator="He") == [
        "ratio/AMS02_Fe_He",
        "ratio/AMS02_H_He",
        "ratio/CALET_H_He",
        "ratio/CALET_H_He_rigidity",
        "ratio/NUCLEON_H_He",
    ]
    assert len(data.ratio_names()) == len(data.names("bc")) + len(data.names("ratio"))
    with pytest.raises(DataError, match="'Xx'"):
        data.ratio_names("Xx", "O")


def test_build_helpers():
    build = build_module()
    assert build.hadronic_model_in("LHAASO (SIBYLL-2.3d)") == "SIBYLL-2.3d"
    assert build.hadronic_model_in("KASCADE-Grande (SIBYLL-2.3)") == "SIBYLL-2.3"
    assert build.hadronic_model_in("IceTop (2016/05-2017/04), QGSJet-II-04") == "QGSJET-II-04"
    assert build.hadronic_model_in("KASCADE (Kuznetsov2024)") is None


def test_build_refuses_a_flux_that_rises_with_energy(tmp_path):
    folder = tmp_path / "cr" / "nuclei"
    folder.mkdir(parents=True)
    path = folder / "Shifted_B.csv"
    path.write_text(NUCLEI_CSV.replace("0.05,", "0.0005,"))
    build = build_module()
    assert build.spectrum(path, "nuclei", tmp_path).meta["species"] == "B"
    path.write_text(NUCLEI_CSV.replace("0.5,", "0.0001,"))
    with pytest.raises(DataError, match="rises with energy"):
        build.spectrum(path, "nuclei", tmp_path)


# ---------------------------------------------------------------- user files and bad input
NUCLEI_CSV = """# quantity: B flux
# experiment: Test Balloon
# reference: Doe et al. 2031, J. Test 2, 2
# origin: hand-made test file
# species: B
# x_variable: kinetic energy per nucleon
# x_unit: GeV/n
# y_unit: m^-2 s^-1 sr^-1 GeV/n^-1
x,x_lo,x_hi,y,y_stat_lo,y_stat_hi,y_sys_lo,y_sys_hi
10,,,0.5,0.01,0.01,0.02,0.02
100,,,0.05,0.002,0.002,0.003,0.003
"""
RATIO_CSV = """# experiment: Test Balloon
# reference: Doe et al. 2031, J. Test 2, 2
# numerator: Be
# denominator: O
# x_variable: rigidity
# x_unit: GV
# y_unit: dimensionless ratio
x,x_lo,x_hi,y,y_stat_lo,y_stat_hi,y_sys_lo,y_sys_hi
10,,,0.08,0.002,0.002,0.003,0.003
100,,,0.04,0.002,0.002,0.003,0.003
"""
LNA_CSV = """# experiment: Test Array
# reference: Doe et al. 2031, J. Test 2, 2
# hadronic_model: QGSJet-II.04
# x_variable: total energy per particle
# x_unit: PeV
# y_unit: ln A (dimensionless)
x,x_lo,x_hi,y,y_stat_lo,y_stat_hi,y_sys_lo,y_sys_hi
1,,,1.5,0.01,0.01,0.1,0.1
10,,,2.0,0.02,0.02,0.1,0.1
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_round_trip_nuclei_ratio_lna(tmp_path):
    boron = data.load(
        data.add(write(tmp_path, "Balloon_B.csv", NUCLEI_CSV.replace("species: B", "species: b")), "nuclei")
    )
    assert boron.meta["name"] == "nuclei/Balloon_B" and boron.meta["species"] == "B"
    assert boron["y"][1].to_value("m-2 s-1 sr-1 GeV-1") == pytest.approx(0.05)
    assert data.to_variable(boron, "R").meta["conversion_nuclide"] == "B11"
    ratio = data.load(data.add(write(tmp_path, "Balloon_Be_O.csv", RATIO_CSV), "ratio"))
    assert (ratio.meta["numerator"], ratio.meta["denominator"]) == ("Be", "O")
    assert "ratio/Balloon_Be_O" in data.ratio_names("Be", "O")
    lna = data.load(data.add(write(tmp_path, "Array_lnA.csv", LNA_CSV), "lnA"))
    assert lna.meta["hadronic_model"] == "QGSJET-II-04" and lna["x"][1] == 1e7 * u.GeV and lna["y"][1] == 2.0 * u.one


def _row(text, row, col, value):
    """``text`` with data row ``row`` (1-based), column ``col`` set to ``value``."""
    lines = text.splitlines()
    header = next(i for i, ln in enumerate(lines) if not ln.startswith("#"))
    names = lines[header].split(",")
    cells = lines[header + row].split(",")
    cells[names.index(col)] = value
    lines[header + row] = ",".join(cells)
    return "\n".join(lines) + "\n"


BAD = [
    ("nuclei", "no species", NUCLEI_CSV.replace("# species: B\n", ""), r"meta 'species' is missing"),
    (
        "nuclei",
        "unknown species",
        NUCLEI_CSV.replace("species: B", "species: Xx"),
        r"species' = 'Xx' is not an element",
    ),
    ("nuclei", "ratio units", NUCLEI_CSV.replace("m^-2 s^-1 sr^-1 GeV/n^-1", "dimensionless"), "not a flux per GeV"),
    (
        "nuclei",
        "no x_variable",
        NUCLEI_CSV.replace("# x_variable: kinetic energy per nucleon\n", ""),
        "x_variable is missing",
    ),
    ("ratio", "unknown numerator", RATIO_CSV.replace("numerator: Be", "numerator: Qq"), r"'numerator' = 'Qq'"),
    ("ratio", "no denominator", RATIO_CSV.replace("# denominator: O\n", ""), r"meta 'denominator' is missing"),
    ("ratio", "same species", RATIO_CSV.replace("numerator: Be", "numerator: O"), "both 'O'"),
    ("ratio", "flux units", RATIO_CSV.replace("dimensionless ratio", "m^-2 s^-1 sr^-1 GV^-1"), "is not a ratio"),
    ("bc", "not B/C", RATIO_CSV, "a 'bc' dataset is B/C; got Be/O"),
    (
        "lnA",
        "above iron",
        _row(LNA_CSV, 2, "y", "5.2"),
        r"Array_lnA.csv: data row 2, column 'y': <lnA> must lie in "
        r"\[0, 4.53\].*got 5.2",
    ),
    ("lnA", "negative", _row(LNA_CSV, 1, "y", "-0.4"), r"data row 1, column 'y': <lnA> must lie.*got -0.4"),
    ("lnA", "unknown model", LNA_CSV.replace("QGSJet-II.04", "DPMJET-9"), "'DPMJET-9' is not a model"),
    (
        "lnA",
        "rigidity",
        LNA_CSV.replace("total energy per particle", "rigidity").replace("PeV", "PV"),
        "total energy per particle",
    ),
    ("lnA", "no y_unit", LNA_CSV.replace("# y_unit: ln A (dimensionless)\n", ""), "'# y_unit: ...' is missing"),
    ("lnA", "negative error", _row(LNA_CSV, 2, "y_sys_hi", "-0.1"), "data row 2, column 'y_sys_hi'"),
]


@pytest.mark.parametrize("quantity,why,text,message", BAD, ids=[b[1] for b in BAD])
def test_user_add_rejects(tmp_path, user_folder, quantity, why, text, message):
    with pytest.raises(DataError, match=message):
        data.add(write(tmp_path, "Array_lnA.csv", text), quantity)
    assert not list(user_folder.rglob("*.ecsv"))


def test_unknown_quantity_family(tmp_path, user_folder):
    with pytest.raises(DataError, match="unknown quantity 'isotopes'"):
        data.add(write(tmp_path, "Balloon_B.csv", NUCLEI_CSV), "isotopes")
    from astropy.table import QTable

    t = QTable(
        {"x": [1.0] * u.GeV, "y": [1.0] * u.one}, meta={"quantity": "isotopes", "experiment": "A", "reference": "B"}
    )
    (user_folder / "nuclei").mkdir(parents=True)
    t.write(user_folder / "nuclei" / "Odd.ecsv")
    with pytest.raises(DataError, match=r"Odd.ecsv: unknown quantity 'isotopes'"):
        data.load("nuclei/Odd")


# ---------------------------------------------------------------- command line
def test_cli_list_and_plot(tmp_path, capsys):
    code, out, _ = run_cli(["data", "list", "--quantity", "lnA"], capsys)
    assert code == 0 and len(out.splitlines()) == 6 and out.startswith("lnA/KASCADE_Kuznetsov2024_lnA\t")
    code, out, _ = run_cli(["data", "list", "-q", "ratio"], capsys)
    assert code == 0 and len(out.splitlines()) == 29
    for quantity in ("nuclei", "ratio", "lnA"):
        code, out, _ = run_cli(["data", "plot", quantity, "--out", str(tmp_path / f"{quantity}.png")], capsys)
        assert code == 0 and (tmp_path / f"{quantity}.png").stat().st_size > 30000


def test_cli_add_with_options_and_one_line_errors(tmp_path, capsys):
    path = write(tmp_path, "Balloon_C.csv", NUCLEI_CSV.replace("# species: B\n", "").replace("B flux", "C flux"))
    code, out, _ = run_cli(["data", "add", str(path), "--quantity", "nuclei", "--species", "C"], capsys)
    assert code == 0 and "added nuclei/Balloon_C" in out and data.load("nuclei/Balloon_C").meta["species"] == "C"
    code, _, err = run_cli(["data", "add", str(path), "-q", "ratio", "--species", "C"], capsys)
    assert code == 2 and "--species is for nuclei files" in err and err.count("\n") == 1
    bad = write(tmp_path, "Bad_lnA.csv", _row(LNA_CSV, 2, "y", "7.0"))
    code, _, err = run_cli(["data", "add", str(bad), "-q", "lnA"], capsys)
    assert code == 2 and err.count("\n") == 1 and "data row 2, column 'y'" in err and "Traceback" not in err

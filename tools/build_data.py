"""Build crknee's bundled data from ``shared/data``: ECSV datasets, MANIFEST.sha256, DATA.md.

Usage::

    python tools/build_data.py [SOURCE_DIR] [--out src/crknee/data]

SOURCE_DIR defaults to ../shared/data beside the checkout (the project's provenance-tracked data). Every
number is read from the source CSV files; the only arithmetic is stated in each
dataset's ``notes`` (splitting SS 433 HAWC lobes by region, catalogue distance bounds
from Fortin's errors). Units are kept as in the source; ``crknee.data.load`` converts.
The solver tables (``nuclear/``, ``ism/``) are copied byte for byte, without DRAGON2's
GPL-2.0 folder (crknee is MIT). Running it twice gives identical files.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Table

from crknee.data import store
from crknee.data.csvfile import parse_header, read
from crknee.data.schema import COMPILATION_CRDB as COMPILATION
from crknee.data.schema import FLUXES, FOLDERS, HADRONIC_MODELS, QUANTITIES, SPECTRA, canonical
from crknee.data.user import from_csv
from crknee.errors import DataError
from crknee.io import atomic_write_table, atomic_write_text, sha256_file

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared beside the checkout
#: GPL-2.0 DRAGON2 material (the folder and the two copied .source.param files): not
#: redistributable inside an MIT package (nuclear/SOURCES.md sections 1 and 7).
SKIP_RAW = ("dragon2", "DRAGON2_")

LICENCES = (
    (
        "KISS-CosmicRayDataBase",
        "MIT (KISS-CosmicRayDataBase, (c) 2020 Carmelo Evoli); cite the original paper and its upstream database (CRDB/KCDC/SSDC)",
    ),
    ("crspectra", "GPL-3.0-only (PyPI crspectra 1.1.1 data file); published measurements, attribution kept"),
    ("abstract text", "published abstract (facts, no licence); cite the paper"),
    (
        "crdb-project/tutorial",
        "CRDB entries as drawn in crdb-project/tutorial's figure (licence of the figure not "
        "checked); published measurements: cite CRDB (Maurin et al. 2023) and the original papers",
    ),
    (
        "LowDiffusionZoneDipoleExplorer",
        "figure digitisation from GitHub 19111717/LowDiffusionZoneDipoleExplorer (licence "
        "not checked); cite Li et al. 2024, ApJ 962, 43 and the original papers",
    ),
)
NO_LICENCE = "no licence file in the origin repository; published measurements (facts), attribution kept"

GAMMA = {  # stem: (source, experiment, region, x col, x_lo, x_hi, y col, y unit, err_lo, err_hi)
    "V4641Sgr_LHAASO": (
        "V4641 Sgr",
        None,
        None,
        "E_TeV",
        None,
        None,
        "E2dNdE_erg_cm2_s",
        "erg cm-2 s-1",
        "E2dNdE_err_lo",
        "E2dNdE_err_hi",
    ),
    "V4641Sgr_HESS": (
        "V4641 Sgr",
        None,
        None,
        "E_TeV",
        "E_lo_TeV",
        "E_hi_TeV",
        "E2dNdE_erg_cm2_s",
        "erg cm-2 s-1",
        "E2dNdE_err_lo",
        "E2dNdE_err_hi",
    ),
    "V4641Sgr_HAWC_northern": (
        "V4641 Sgr",
        None,
        "northern component",
        "E_TeV",
        None,
        None,
        "E2dNdE_TeV_cm2_s",
        "TeV cm-2 s-1",
        "E2dNdE_err_lo",
        "E2dNdE_err_hi",
    ),
    "V4641Sgr_HAWC_southern": (
        "V4641 Sgr",
        None,
        "southern component",
        "E_TeV",
        None,
        None,
        "E2dNdE_TeV_cm2_s",
        "TeV cm-2 s-1",
        "E2dNdE_err_lo",
        "E2dNdE_err_hi",
    ),
    "V4641Sgr_HAWC_total": (
        "V4641 Sgr",
        None,
        "whole source (single asymmetric Gaussian)",
        "E_TeV",
        None,
        None,
        "E2dNdE_TeV_cm2_s",
        "TeV cm-2 s-1",
        "E2dNdE_err_lo",
        "E2dNdE_err_hi",
    ),
    "SS433_HESS_east": (
        "SS 433",
        "H.E.S.S.",
        "eastern jet region",
        "E_TeV",
        "E_lo_TeV",
        "E_hi_TeV",
        "E2dNdE_TeV_cm-2_s-1",
        "TeV cm-2 s-1",
        "err_lo",
        "err_hi",
    ),
    "SS433_HESS_west": (
        "SS 433",
        "H.E.S.S.",
        "western jet region",
        "E_TeV",
        "E_lo_TeV",
        "E_hi_TeV",
        "E2dNdE_TeV_cm-2_s-1",
        "TeV cm-2 s-1",
        "err_lo",
        "err_hi",
    ),
    "SS433_HAWC_20TeV_lobes": (
        "SS 433",
        "HAWC",
        None,
        "E_TeV",
        "E_lo_TeV",
        "E_hi_TeV",
        "E2dNdE_TeV_cm-2_s-1",
        "TeV cm-2 s-1",
        "err_lo",
        "err_hi",
    ),
}
GAMMA_EXTRA_UNITS = {
    "dNdE_TeV-1_cm-2_s-1": "TeV-1 cm-2 s-1",
    "dNdE_stat_err": "TeV-1 cm-2 s-1",
    "dNdE_syst_a": "TeV-1 cm-2 s-1",
    "dNdE_syst_b": "TeV-1 cm-2 s-1",
}
GAMMA_EXTRAS = ("ts", "norm", "fit_success") + tuple(GAMMA_EXTRA_UNITS)

CATALOG_LABELS = {
    "HMXB_Neumann2023": "XRBcats HMXB catalogue (Neumann et al. 2023)",
    "HMXB_Fortin2023": "HMXB catalogue (Fortin et al. 2023)",
    "LMXB_Liu2007": "LMXB catalogue, 4th edition (Liu et al. 2007)",
    "LMXB_ScorpionesXone2021_unpublished": "unpublished LMXB compilation (ScorpionesXone 2021)",
}
CATALOG_RENAME = {
    "l_deg": "l",
    "b_deg": "b",
    "ra_deg": "ra",
    "dec_deg": "dec",
    "distance_kpc": "distance",
    "distance_lo_kpc": "distance_lo",
    "distance_hi_kpc": "distance_hi",
}
UNIT_SUFFIX = {"_kpc": "kpc", "_deg": "deg", "_d": "d", "_s": "s", "_msun": "solMass", "_uJy": "uJy"}
NO_DISTANCE = (
    "Distances are not given: the Avakyan et al. 2023 (A&A 675, A199) XRBcats LMXB "
    "catalogue with distances is not available to crknee; distance columns are NaN."
)


def licence_of(origin: str) -> str:
    for key, text in LICENCES:
        if key in origin:
            return text
    return NO_LICENCE


def provenance(header: list[str], source: Path, root: Path) -> dict:
    """Meta common to every dataset: parsed header keys, verbatim header, source file hash."""
    meta = parse_header(header)
    meta["description"] = meta.pop("quantity")
    notes = [meta.pop(k) for k in ("notes", "note", "caveat", "uncertainties", "errors", "comment") if k in meta]
    meta["notes"] = " | ".join(notes)
    meta["licence"] = licence_of(meta.get("origin", ""))
    meta["source_header"] = header
    meta["source_file"] = source.relative_to(root).as_posix()
    meta["source_sha256"] = sha256_file(source)
    return meta


#: Source files left out of the bundle, with the reason (DATA.md "Not bundled"). The build checks
#: that each defect is still there, so a corrected source file is noticed.
NOT_BUNDLED = {
    "cr/nuclei/DAMPE_B.csv": (
        "columns shifted in the KISS transcription: 'y' rises with energy (13.3 ... 7943, the upper bin "
        "edges in GeV/n: 100 = 10^2, 158.5 = 10^2.2, ...), and the flux sits in 'y_stat_lo'/'y_stat_hi' "
        "(0.00525 ... 7.16e-10, falling as E^-2.8), so which columns hold the statistical and the systematic "
        "errors cannot be told; not bundled rather than guessed (DAMPE B/O and B/C ratios are bundled)"
    ),
}
#: Header ``quantity`` lines that name the species of an element spectrum or ratio.
ELEMENT_FLUX = re.compile(r"^([A-Z][a-z]?) flux$")
ELEMENT_RATIO = re.compile(r"^([A-Z][a-z]?)/([A-Z][a-z]?) ratio$")
#: Notes added to the datasets whose reference line SOURCES.md flags (2nd import, "Caveats").
REFERENCE_CAVEAT = {
    "AMS02_Fe_He": "SOURCES.md: the DOI and the ADS bibcode of the reference line disagree (as in KISS)",
    "AMS02_Fe_O": "SOURCES.md: the DOI and the ADS bibcode of the reference line disagree (as in KISS)",
    "AMS02_Fe_Si": "SOURCES.md: the DOI and the ADS bibcode of the reference line disagree (as in KISS)",
}


def hadronic_model_in(experiment: str) -> str | None:
    """The hadronic interaction model an ``experiment`` header line names (normalised), or None.

    E.g. "LHAASO (EPOS-LHC)" -> "EPOS-LHC", "IceTop (2016/05-2017/04), QGSJet-II-04" -> "QGSJET-II-04";
    the longest known name wins (SIBYLL-2.3d over SIBYLL-2.3).
    """
    key = re.sub(r"[^a-z0-9]", "", str(experiment).lower())
    hits = [k for k in HADRONIC_MODELS if k in key]
    return HADRONIC_MODELS[max(hits, key=len)] if hits else None


def _log_slope(table: Table) -> float:
    """Slope of log y against log x (least squares over the points with y > 0)."""
    x, y = np.asarray(table["x"], dtype=float), np.asarray(table["y"], dtype=float)
    ok = (x > 0) & (y > 0)
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def _species(table: Table, quantity: str, path: Path) -> None:
    """Species meta of an element spectrum or ratio, from the header's quantity line, checked
    against the file name (``AMS02_C.csv`` is C, ``AMS02_B_O.csv`` is B/O)."""
    what = table.meta["description"]
    if quantity == "nuclei":
        m = ELEMENT_FLUX.match(what)
        if m is None or not path.stem.endswith(f"_{m.group(1)}"):
            raise DataError(f"{path}: header 'quantity: {what}' does not name the element of the file name")
        table.meta["species"] = m.group(1)
        return
    m = ELEMENT_RATIO.match(what)
    if m is None or f"_{m.group(1)}_{m.group(2)}" not in f"{path.stem}_":
        raise DataError(f"{path}: header 'quantity: {what}' does not name the ratio of the file name")
    table.meta["numerator"], table.meta["denominator"] = m.group(1), m.group(2)


def spectrum(path: Path, quantity: str, root: Path) -> Table:
    table = from_csv(path, quantity)
    table.meta = provenance(table.meta["source_header"], path, root)
    if path.stem == "CREAM_2017_crspectra":  # "energy as stored by crspectra ... matches CREAM kinetic energy bins"
        table.meta["x_variable"] = "Ek"
    if quantity not in ("proton", "helium"):
        table.meta["species"] = None
    if quantity in ("nuclei", "ratio"):
        _species(table, quantity, path)
    model = hadronic_model_in(table.meta["experiment"])
    if model:
        table.meta["hadronic_model"] = model
        table.meta["notes"] = " | ".join(
            n
            for n in (
                table.meta["notes"],
                f"hadronic_model {model} as named by the experiment line of the source header",
            )
            if n
        )
    if path.stem in REFERENCE_CAVEAT and quantity == "ratio":
        table.meta["notes"] = " | ".join(n for n in (table.meta["notes"], REFERENCE_CAVEAT[path.stem]) if n)
    if quantity in FLUXES and _log_slope(table) >= 0:
        raise DataError(
            f"{path}: the flux rises with energy (log-log slope {_log_slope(table):.2f}): columns "
            "shifted? Add it to NOT_BUNDLED with the reason, or fix the source"
        )
    return table


def not_bundled(path: Path, root: Path) -> str | None:
    """Reason a source file is left out (None: bundle it); checks the defect is still there."""
    rel = path.relative_to(root).as_posix()
    if rel not in NOT_BUNDLED:
        return None
    src, _ = read(path)
    if _log_slope(src) <= 0:
        raise DataError(
            f"{rel}: listed in NOT_BUNDLED as column-shifted, but its y now falls with energy; review the entry"
        )
    return NOT_BUNDLED[rel]


# ---------------------------------------------------------------- anisotropy
#: The CRDB world compilation (one row per CRDB entry, column ``experiment``), split here into
#: one dataset per CRDB experiment name: ``anisotropy/CRDB_<experiment>``.
CRDB_FILE = "CRDB_dipole_world_compilation_svg.csv"
#: Files that repeat rows of the compilation with richer notes: stem -> [(dataset stem, CRDB
#: experiment)]. Every row must equal a compilation row number for number (checked here and
#: in tests); the datasets carry ``duplicate_of`` so a fit never counts a measurement twice.
DEDICATED = {
    "KASCADE-Grande_CRDB": (("KASCADE-Grande_2019", "KASCADE-Grande"),),
    "Auger_2020_ApJ891_142_bins_CRDB": (("Auger_SD750_2020", "Auger SD750"), ("Auger_SD1500_2020", "Auger SD1500")),
}
#: Older single-value files that repeat one compilation row: stem -> CRDB experiment.
REPEATS = {"EAS-TOP_1996_ApJ470_501": "EAS-TOP"}
#: The figure digitisation of Li et al. 2024 (split per experiment, role_hint "cross-check").
LI2024_FILE = "Li2024_Fig3_digitized_world.csv"
LI2024_NAMES = {"Tibet ASgamma": "Tibet", "HAWC-IceCube": "HAWC"}  # Li's name -> CRDB's, where they differ
#: Columns compared when a row is said to repeat a compilation row.
SAME_ROW = ("x", "x_lo", "x_hi", "y", "y_err_lo", "y_err_hi", "y_ul", "phase", "phase_err_lo", "phase_err_hi")

#: Where each site latitude comes from (stored public pages, found with the `search` tool).
SITE = {
    "KIT": (49.1, "KIT/IAP KASCADE page https://iap.kit.edu/kascade/index.php (49.1 N, 8.4 E, 110 m)"),
    "Auger": (
        -35.2,
        "Pierre Auger Collaboration community page https://zenodo.org/communities/auger/ (latitude 35.2 S)",
    ),
    "YBJ": (30.22, "IHEP YBJ observatory page http://www.ihep.ac.cn/english/YBJ-E/index.htm (90 26' E, 30 13' N)"),
    "Pole": (
        -89.99,
        "IceCube infobox 89 59' 24\" S (https://review.clateway.com/wiki/view_html.php?q=IceCube_Neutrino_Observatory); "
        "'located at the geographic South Pole' (http://icecube.wisc.edu/~swesterhoff/IceCube.html)",
    ),
    "HAWC": (
        18.995,
        "HAWC at 18 59' 41\" N, 97 18' 30.6\" W (https://trek.zone/de/mexiko/orte/468286/high-altitude-water-cherenkov-experiment); "
        "'roughly 19 degrees north' from the HAWC site page",
    ),
    "Kamioka": (
        36.409,
        "Super-K GPS position 36 24' 31.2\" N, 137 18' 30.5\" E (R. J. Wilkes, "
        "http://neutrino.phys.washington.edu/~superk/data/location.html)",
    ),
    "Baksan": (
        43.276,
        "Baksan Neutrino Observatory 43 16' 32\" N, 42 41' 25\" E (Wikipedia copy "
        "https://kiwix.casplantje.nl/wikipedia_en_all_maxi_2018-10/A/Baksan_Neutrino_Observatory.html)",
    ),
    "LNGS": (
        42.5,
        "EAS-TOP at Campo Imperatore, 42.5 N (header of shared/data/anisotropy/EAS-TOP_1996_ApJ470_501.csv); "
        "MACRO sits in the Gran Sasso underground laboratory below it (LNGS page: EAS-TOP is "
        "'30 deg from the vertical of the underground laboratories')",
    ),
    "Liapootah": (
        -36.2,
        "median latitude of viewing of the vertical telescope, 36.2 S (Munakata et al. 1995, J. Geomag. "
        "Geoelectr. 47, 1103, abstract at https://ecite.utas.edu.au/5442; site 42 20' S)",
    ),
    "Matsushiro": (
        34.5,
        "median latitude of viewing 34.5 N (Munakata et al. 1995, J. Geomag. Geoelectr. 47, 1103, "
        "abstract at https://ecite.utas.edu.au/5442; site 36 32' N)",
    ),
    "Nagoya": (
        35.12,
        "Nagoya muon telescope at 35.12 N, 136.97 E (abstract 'Solar diurnal and semi-diurnal variations "
        "... North-South network', https://discovery.researcher.life)",
    ),
    "Hobart": (
        -42.9,
        "Hobart -42.90 (University of Tasmania observatory table "
        "http://www.phys.utas.edu.au/physics/cosray/observatories.htm)",
    ),
}
#: Sites recalled from the collaborations' papers, not found in a stored page: flagged as such.
RECALLED = {
    "LHAASO": (
        29.36,
        "LHAASO at Haizi Mountain, Daocheng, 29.36 N: value recalled from the LHAASO collaboration's papers, "
        "NOT verified against a stored source (the stored pages give only the altitude, 4410 m)",
    ),
    "TA": (
        39.3,
        "Telescope Array near Delta, Utah, 39.3 N: value recalled from the TA collaboration's papers, NOT verified "
        "against a stored source (the stored pages name Millard County / Delta, Utah)",
    ),
    "Milagro": (
        35.88,
        "Milagro at Fenton Hill, New Mexico, 35.88 N: value recalled from the Milagro papers, NOT verified "
        "against a stored source (the stored pages give only the altitude)",
    ),
}
#: Zenith cuts: the analyses' own cuts are not in the stored sources except for Auger's 80 deg.
ZENITH_ARRAY = (60.0, "zenith_max 60 deg is an ASSUMPTION (the analysis' cut is not in the stored sources)")
ZENITH_TELESCOPE = (
    30.0,
    "zenith_max 30 deg is an ASSUMPTION for a narrow vertical telescope cone around the viewing "
    "latitude (the telescope geometry is not in the stored sources)",
)
ZENITH_AUGER80 = (
    80.0,
    "zenith angles up to 80 deg (headers of Auger_2015_ApJ802_111_first_harmonic.csv and "
    "Auger_ICRC2017_first_harmonic.csv)",
)
R1_STANDARD = (
    "first-harmonic amplitude in RA of the array's events (the standard assumption where the paper's "
    "quantity is not established here): APPROXIMATE"
)
NOT_ESTABLISHED = (
    "NOT ESTABLISHED: old-era neutron-monitor / muon-telescope entry; the site's latitude of viewing and "
    "the published quantity are not in the stored sources, so no r1 factor can be computed. Stored as "
    "'r1_dec0' (factor 1: the amplitude is compared as published) and role_hint 'cross-check' so that a "
    "fit does not take it by default"
)


def _r1(site, zenith, what, recalled=False):
    lat, where = (RECALLED if recalled else SITE)[site]
    return dict(
        convention="r1",
        site_latitude_deg=lat,
        zenith_max_deg=zenith[0],
        convention_reference=f"{what}. Site latitude {lat:g} deg: {where}. {zenith[1]}.",
    )


#: What each CRDB experiment published (convention, site, reference). Keys: CRDB experiment names.
CONVENTION_OF = {
    "KASCADE-Grande": _r1(
        "KIT",
        ZENITH_ARRAY,
        "KASCADE-Grande (Apel et al. 2019, ApJ 870, 91; Chiavassa et al. ICRC2015): "
        "first harmonic in RA from the East-West derivative method ('official results based on the "
        "conventional East-West derivative method', Ahlers 2019 ApJL abstract, arXiv:1909.09222), "
        "i.e. r1 of the array; APPROXIMATE",
    ),
    "Auger SD750": dict(
        convention="d_perp",
        convention_reference=(
            "Auger 2020 (Aab et al., ApJ 891, 142; arXiv:2002.06172) abstract: 'We determine the equatorial dipole component, "
            "d_perp, through a Fourier analysis in right ascension ... East-West method ... 750 m sub-array'; 99% CL upper "
            "bounds on d_perp below 8 EeV. Site -35.2 deg (https://zenodo.org/communities/auger/)"
        ),
        site_latitude_deg=-35.2,
    ),
    "Auger SD1500": dict(
        convention="d_perp",
        convention_reference=(
            "Auger 2020 (Aab et al., ApJ 891, 142; arXiv:2002.06172) abstract: 'We determine the equatorial dipole component, "
            "d_perp ...'; 99% CL upper bounds on d_perp below 8 EeV. Site -35.2 deg (https://zenodo.org/communities/auger/)"
        ),
        site_latitude_deg=-35.2,
    ),
    "Auger": _r1(
        "Auger",
        ZENITH_AUGER80,
        "Auger 4-bin series 4-8, 8-16, 16-32, >= 32 EeV: the 4-8 EeV row (0.005, phase "
        "80 deg) is the first-harmonic amplitude r of Auger ICRC2017 / Science 2017 (0.5 +0.6 -0.2 %, see "
        "Auger_ICRC2017_first_harmonic.csv); source paper of the other rows not identified (2018ApJ...868....4A "
        "a candidate): first harmonic r1; APPROXIMATE",
    ),
    "EAS-TOP": dict(
        convention="r1_dec0",
        site_latitude_deg=42.5,
        convention_reference=(
            "EAS-TOP 1996 (Aglietta et al., ApJ 470, 501) abstract: 'A_sid,delta=0 ... amplitude exhibits the expected cos "
            "delta dependence', the first harmonic referred to dec 0 (the 2e5 GeV row). The other rows (EAS-TOP 1995 ICRC, "
            "2009 ApJ 692 L130) are ASSUMED to follow the same convention: APPROXIMATE. Site 42.5 N (header of "
            "EAS-TOP_1996_ApJ470_501.csv)"
        ),
    ),
    "IceCube": _r1(
        "Pole",
        ZENITH_ARRAY,
        "IceCube (Abbasi et al. 2010 ApJL 718 L194, 2012 ApJ 746 33; Aartsen et al. 2016 "
        "ApJ 826 220): first harmonic of the RA profile of relative intensity; APPROXIMATE (the RA profile "
        "weights declination bands differently from event counts). The factor at the pole depends strongly "
        "on the zenith cut: <cos dec> = 0.577 (60 deg) vs 0.471 (45 deg). The rows form two near-identical "
        "CRDB series (with and without a separate phase energy 'phase_x'); do not fit both",
    ),
    "IceTop": _r1(
        "Pole",
        ZENITH_ARRAY,
        "IceTop (Aartsen et al. 2013 ApJ 765 55; 2016 ApJ 826 220): first harmonic of the "
        "RA profile; APPROXIMATE; <cos dec> = 0.577 (60 deg) vs 0.471 (45 deg)",
    ),
    "Tibet": _r1(
        "YBJ",
        ZENITH_ARRAY,
        "Tibet AS-gamma (Amenomori et al. 2005 ApJL 626 L29, 2017 ApJ 836 153): first "
        "harmonic of the RA profile; APPROXIMATE",
    ),
    "ARGO-YBJ": _r1(
        "YBJ",
        ZENITH_ARRAY,
        "ARGO-YBJ (Bartoli et al. 2015 ApJ 809 90, 2018 ApJ 861 93): first harmonic of the RA profile; APPROXIMATE",
    ),
    "LHAASO-KM2A": _r1(
        "LHAASO",
        ZENITH_ARRAY,
        "LHAASO-KM2A (ICRC2019 PoS 358 263, ICRC2021 PoS 395 351): first harmonic of the RA profile; APPROXIMATE",
        recalled=True,
    ),
    "HAWC": dict(
        convention="d_perp",
        site_latitude_deg=18.995,
        convention_reference=(
            "HAWC-IceCube combined all-sky analysis (Abeysekara et al. 2019, ApJ 871, 96; bibcode in the figure's list): "
            "dipole of the combined full-sky map, whose N-S component ground arrays cannot measure: taken as the equatorial "
            "dipole d_perp; APPROXIMATE. HAWC site " + SITE["HAWC"][1]
        ),
    ),
    "Milagro": _r1(
        "Milagro", ZENITH_ARRAY, "Milagro (Abdo et al. 2009, ApJ 698, 2121): first harmonic; APPROXIMATE", recalled=True
    ),
    "Super-Kamiokande": _r1(
        "Kamioka",
        ZENITH_ARRAY,
        "Super-Kamiokande (Guillian et al. 2007, PRD 75, 062003): first harmonic of underground muons; APPROXIMATE",
    ),
    "Kamiokande-I/II": _r1(
        "Kamioka",
        ZENITH_ARRAY,
        "Kamiokande (Munakata et al. 1997, PRD 56, 23): first harmonic of underground muons; APPROXIMATE",
    ),
    "MACRO": _r1(
        "LNGS",
        ZENITH_ARRAY,
        "MACRO (Ambrosio et al. 2003, PRD 67, 042002): first harmonic of underground muons; APPROXIMATE",
    ),
    "Baksan": _r1(
        "Baksan", ZENITH_ARRAY, "Baksan underground telescope: first harmonic of underground muons; APPROXIMATE"
    ),
    "Baksan Carpet": _r1(
        "Baksan", ZENITH_ARRAY, "Baksan Carpet air-shower array: first harmonic of the array; APPROXIMATE"
    ),
    "Telescope Array": _r1(
        "TA",
        ZENITH_ARRAY,
        "Telescope Array 4-bin series (4-8, 8-16, 16-32, >= 32 EeV, with upper "
        "limits): first harmonic; APPROXIMATE (TA's analyses may quote d_perp: not established)",
        recalled=True,
    ),
    "Liapootah": _r1(
        "Liapootah",
        ZENITH_TELESCOPE,
        "Liapootah underground vertical telescope: sidereal diurnal variation "
        "0.041 +- 0.006 %, 3.5 +- 0.6 h (Munakata et al. 1995) = this row; first harmonic at the viewing "
        "latitude; APPROXIMATE",
    ),
    "Matsushiro": _r1(
        "Matsushiro",
        ZENITH_TELESCOPE,
        "Matsushiro underground telescope: sidereal diurnal variation "
        "0.028 +- 0.006 %, 2.6 +- 0.8 h (Munakata et al. 1995) = this row; first harmonic at the viewing "
        "latitude; APPROXIMATE",
    ),
    "Nagoya": _r1(
        "Nagoya",
        ZENITH_TELESCOPE,
        "Nagoya surface muon telescope: first harmonic; site latitude used for the viewing latitude; APPROXIMATE",
    ),
    "Hobart": _r1(
        "Hobart",
        ZENITH_TELESCOPE,
        "Hobart (University of Tasmania) telescope: first harmonic; site latitude used "
        "for the viewing latitude; APPROXIMATE",
    ),
}
#: Old-era entries whose site and quantity are not established here (role_hint "cross-check").
OLD_ERA = (
    "Artyomovsk",
    "Bolivia",
    "Budapest",
    "Embudo Cave",
    "Honkong",
    "London",
    "Mayflower Mine",
    "Misato",
    "Mount Norikura",
    "Musala Peak",
    "Plateau Rosa",
    "Poatina",
    "Sakashita",
    "Socorro",
    "Yakutsk",
)
#: The IceTop CRDB sub-series with the same amplitude and phase, energies for p or Fe primaries.
ICETOP_TWINS = (
    "the IceTop 'p-composition' and 'Fe-composition' series give the same amplitude and phase at energies "
    "assigned for proton or iron primaries: the same measurement; fit at most one of each pair"
)
#: Confidence level of the upper limits, per CRDB experiment, with the reason.
UPPER_LIMIT_CL = {
    "Auger SD750": (0.99, "99% CL (Auger 2020 abstract: '99% CL upper-bounds on d_perp'; file header)"),
    "Auger SD1500": (0.99, "99% CL (Auger 2020 abstract: '99% CL upper-bounds on d_perp'; file header)"),
    "KASCADE-Grande": (
        0.99,
        "CL not stated in the stored sources: 0.99 INFERRED, the limits lie 2.2-2.3 sigma above the "
        "amplitude (a one-sided 95% CL would be 1.64 sigma; tested)",
    ),
    "Telescope Array": (
        0.99,
        "CL not stated in the stored sources: 0.99 INFERRED, the limits lie 2.5-3.2 sigma (upper errors) above "
        "the amplitude, beyond a 95% CL (1.64 sigma); tested",
    ),
}
#: Conventions of the older single-value files (stem -> meta), from their own headers.
SINGLE_VALUE = {
    "Auger_2015_ApJ802_111_first_harmonic": _r1(
        "Auger",
        ZENITH_AUGER80,
        "header: 'first-harmonic amplitude in RA, r_1^alpha'; zenith angles up to 80 deg; APPROXIMATE (exposure model)",
    ),
    "Auger_ICRC2017_first_harmonic": _r1(
        "Auger",
        ZENITH_AUGER80,
        "header: 'first-harmonic amplitude in RA, r'; events "
        "with zenith angle up to 80 deg; APPROXIMATE (exposure model)",
    ),
    "Auger_2017_Science_3Ddipole": dict(
        convention="d_3d",
        site_latitude_deg=-35.2,
        convention_reference=(
            "header: '3D dipole amplitude d (fraction, NOT d_perp)' (Auger 2017 Science, arXiv:1709.07321)"
        ),
    ),
    "Auger_2020_ApJ891_142": dict(
        convention="d_perp",
        site_latitude_deg=-35.2,
        convention_reference=("header and abstract: 'equatorial dipole amplitude d_perp', cumulative bin >= 8 EeV"),
    ),
    "EAS-TOP_1996_ApJ470_501": dict(
        convention="r1_dec0",
        site_latitude_deg=42.5,
        convention_reference=(
            "header and abstract: 'first-harmonic amplitude in sidereal time, referred to the equatorial plane "
            "(A_sid, delta=0)'"
        ),
    ),
}


def slug(name: str) -> str:
    """A CRDB experiment name as a dataset stem ("Kamiokande-I/II" -> "Kamiokande-I_II")."""
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", name).strip("_")


def _convention(experiment: str) -> dict:
    if experiment in OLD_ERA:
        return dict(convention="r1_dec0", convention_reference=NOT_ESTABLISHED, role_hint="cross-check")
    for key in sorted(CONVENTION_OF, key=len, reverse=True):  # "IceTop HE p-composition" -> "IceTop"
        if experiment == key or experiment.startswith(key + " "):
            return dict(CONVENTION_OF[key])
    raise KeyError(f"no convention recorded for CRDB experiment {experiment!r}: add it to CONVENTION_OF or OLD_ERA")


def _anisotropy_table(path: Path, root: Path) -> Table:
    """A shared-data anisotropy CSV read through the user path (column aliases, flags), with provenance."""
    table = from_csv(path, "anisotropy")
    meta = provenance(table.meta["source_header"], path, root)
    meta["notes"] = " | ".join(x for x in (meta.get("energy_definition", ""), meta["notes"]) if x)
    table.meta = {**meta, "column_aliases": table.meta["column_aliases"]}
    return table


def _rows_equal(a, b) -> bool:
    return all((np.isnan(a[c]) and np.isnan(b[c])) or a[c] == b[c] for c in SAME_ROW)


def _match(table: Table, crdb: Table, experiment: str, label: str) -> np.ndarray:
    """Index of the compilation row equal to each row of ``table`` (DataError if one has none)."""
    index = []
    for i, row in enumerate(table):
        hits = [j for j, r in enumerate(crdb) if r["experiment"] == experiment and _rows_equal(row, r)]
        if len(hits) != 1:
            raise DataError(
                f"{label}: data row {i + 1} matches {len(hits)} rows of {experiment!r} in {CRDB_FILE} (expected 1)"
            )
        index.append(hits[0])
    return np.array(index)


def _finish(table: Table, experiment: str, extra_notes: str = "") -> Table:
    """Add the convention, upper-limit CL and notes of CRDB experiment ``experiment``."""
    meta = table.meta
    meta.update(_convention(experiment))
    if experiment in UPPER_LIMIT_CL and np.any(np.isfinite(np.asarray(table["y_ul"], dtype=float))):
        cl, why = UPPER_LIMIT_CL[experiment]
        meta["upper_limit_cl"] = cl
        meta["notes"] = " | ".join(x for x in (meta["notes"], f"upper limits: {why}") if x)
    if extra_notes:
        meta["notes"] = " | ".join(x for x in (meta["notes"], extra_notes) if x)
    return table


def anisotropy(root: Path):
    """Yield (stem, table) for every anisotropy dataset (module docstring of this section)."""
    folder = root / "anisotropy"
    crdb = _anisotropy_table(folder / CRDB_FILE, root)
    experiments = sorted({str(e) for e in crdb["experiment"]})
    for experiment in experiments:
        part = crdb[crdb["experiment"] == experiment]
        part.meta = {
            **crdb.meta,
            "experiment": f"{experiment} (CRDB experiment name)",
            "crdb_experiment": experiment,
            "compilation": COMPILATION,
            "series": experiment.partition(" ")[2] if experiment.split()[0] in ("Auger", "IceTop") else "",
            "notes": crdb.meta["notes"] + f" | rows of experiment {experiment!r} of {CRDB_FILE} (split per experiment)",
        }
        yield (
            f"CRDB_{slug(experiment)}",
            _finish(part, experiment, ICETOP_TWINS if experiment.startswith("IceTop ") else ""),
        )
    for stem, targets in DEDICATED.items():
        path = folder / f"{stem}.csv"
        src = _anisotropy_table(path, root)
        taken = np.zeros(len(src), dtype=bool)
        for new_stem, experiment in targets:
            mine = np.array([any(_rows_equal(r, c) for c in crdb[crdb["experiment"] == experiment]) for r in src])
            part = src[mine]
            index = _match(part, crdb, experiment, f"{path.name} ({experiment})")
            taken |= mine
            part["experiment"] = np.full(len(part), experiment)
            part["flags"] = crdb["flags"][index]
            for flag in ("amp_err_lo_reaches_zero", "phase_err_missing", "amp_err_missing", "upper_limit"):
                if flag in crdb.colnames:
                    part[flag] = np.asarray(crdb[flag][index], dtype=bool)
            part.meta = {
                **src.meta,
                "compilation": COMPILATION,
                "crdb_experiment": experiment,
                "series": experiment.split()[-1] if experiment.startswith("Auger ") else "",
                "duplicate_of": f"anisotropy/CRDB_{slug(experiment)}",
                "notes": src.meta["notes"] + f" | rows of {experiment!r}; every row equals a row of "
                f"{CRDB_FILE} number for number (checked by the build), whose per-row flags are "
                "copied here: do not fit this dataset together with its duplicate_of",
            }
            yield new_stem, _finish(part, experiment)
        if not np.all(taken):
            raise DataError(
                f"{path.name}: data row {int(np.argmin(taken)) + 1} belongs to none of {[t[1] for t in targets]}"
            )
    for stem, meta in SINGLE_VALUE.items():
        table = _anisotropy_table(folder / f"{stem}.csv", root)
        table.meta.update(meta)
        if stem in REPEATS:
            experiment = REPEATS[stem]
            _match(table, crdb, experiment, f"{stem}.csv")
            table.meta["duplicate_of"] = f"anisotropy/CRDB_{slug(experiment)}"
            table.meta["notes"] += (
                f" | its row equals a row of {CRDB_FILE} ({experiment}) number for number: do not fit "
                "it together with its duplicate_of"
            )
        yield stem, table
    li = _anisotropy_table(folder / LI2024_FILE, root)
    for experiment in sorted({str(e) for e in li["experiment"]}):
        part = li[li["experiment"] == experiment]
        crdb_name = LI2024_NAMES.get(experiment, experiment)
        part.meta = {
            **li.meta,
            **_convention(crdb_name),
            "role_hint": "cross-check",
            "crdb_experiment": crdb_name,
            "experiment": f"{experiment} (as named in Li et al. 2024, Fig. 3)",
            "notes": li.meta["notes"] + f" | rows of {experiment!r} of {LI2024_FILE} (split per experiment); "
            f"convention as for the CRDB experiment {crdb_name!r}; a FIGURE DIGITISATION kept to "
            "cross-check the CRDB rows (tests/test_data_anisotropy.py states the agreement)",
        }
        yield f"Li2024_Fig3_{slug(experiment)}", part


def gamma(path: Path, root: Path) -> list[tuple[str, Table]]:
    src, header = read(path)
    meta = provenance(header, path, root)
    source, experiment, region, x, x_lo, x_hi, y, y_unit, e_lo, e_hi = GAMMA[path.stem]
    meta.update(source=source, region=region)
    if experiment:
        meta["experiment"] = experiment
    meta["notes"] = " | ".join(
        x
        for x in (
            meta["notes"],
            f"y = column {y!r} of the source (unit {y_unit}); derived unit copies in the source file are not kept",
        )
        if x
    )
    out = Table(meta=meta)
    out["x"] = src[x] * u.TeV
    for new, old in (("x_lo", x_lo), ("x_hi", x_hi)):
        out[new] = (src[old] if old else np.full(len(src), np.nan)) * u.TeV
    for new, old in (("y", y), ("y_err_lo", e_lo), ("y_err_hi", e_hi)):
        out[new] = src[old] * u.Unit(y_unit)
    out["upper_limit"] = src["is_upper_limit"]
    for col in GAMMA_EXTRAS:
        if col in src.colnames:
            out[col] = src[col] * u.Unit(GAMMA_EXTRA_UNITS.get(col, ""))
    if "region" not in src.colnames:
        return [(path.stem, out)]
    parts = []
    for reg in sorted({str(r) for r in src["region"]}):
        part = out[src["region"] == reg]
        part.meta = {
            **meta,
            "region": f"{reg} lobe",
            "notes": meta["notes"] + f" | rows of region {reg!r} of {path.name} (split per region)",
        }
        parts.append((f"{path.stem}_{reg}", part))
    return parts


def catalog(path: Path, root: Path) -> Table:
    src, header = read(path)
    meta = provenance(header, path, root)
    meta["reference"] = meta.pop("catalogue")
    meta["experiment"] = CATALOG_LABELS[path.stem]
    src.rename_columns(*zip(*[(a, b) for a, b in CATALOG_RENAME.items() if a in src.colnames]))
    notes = [meta["notes"]] if meta["notes"] else []
    if "distance_err_lo_kpc" in src.colnames:
        src["distance_lo"] = src["distance"] - src["distance_err_lo_kpc"]
        src["distance_hi"] = src["distance"] + src["distance_err_hi_kpc"]
        notes.append(
            "distance_lo/hi = distance -/+ the catalogue's distance errors (computed here); "
            "the errors are kept in distance_err_lo_kpc/distance_err_hi_kpc"
        )
    elif "distance_lo" in src.colnames:
        notes.append("distance_lo/hi are the catalogue's lower/upper distance values (Low_Dist/High_Dist)")
    if not np.any(np.isfinite(src["distance"])):
        notes.append(NO_DISTANCE)
        meta["distances_available"] = False
    meta["notes"] = " | ".join(notes)
    for col in ("l", "b", "ra", "dec", "distance", "distance_lo", "distance_hi"):
        if col in src.colnames:
            src[col].unit = u.deg if col in ("l", "b", "ra", "dec") else u.kpc
    for col in src.colnames:
        for suffix, unit in UNIT_SUFFIX.items():
            if col.endswith(suffix) and src[col].dtype.kind == "f":
                src[col].unit = u.Unit(unit)
    src.meta = meta
    return src


def datasets(root: Path):
    """Yield (quantity, stem, table) for every dataset of the source tree."""
    for q in SPECTRA:
        for path in sorted((root / FOLDERS[q]).glob("*.csv")):
            if not_bundled(path, root) is None:
                yield q, path.stem, spectrum(path, q, root)
    for stem, table in anisotropy(root):
        yield "anisotropy", stem, table
    for path in sorted((root / "gamma").glob("*.csv")):
        for stem, table in gamma(path, root):
            yield "gamma", stem, table
    for path in sorted((root / "catalogs").glob("*.csv")):
        yield "catalog", path.stem, catalog(path, root)


def copy_raw(root: Path, out: Path) -> None:
    for sub in ("nuclear", "ism"):
        dest = out / "bundled" / sub
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(root / sub, dest, ignore=lambda d, names: [n for n in names if n.startswith(SKIP_RAW)])


def data_md(rows: list[dict], out: Path) -> str:
    def cell(text):
        return str(text or "").replace("|", "/").replace("\n", " ")

    lines = [
        "# Bundled data of crknee",
        "",
        "Generated by `tools/build_data.py` from `shared/data` (do not edit by hand). Each dataset's",
        "ECSV meta holds the full provenance: the source file's `#` lines verbatim (`source_header`),",
        "its path and SHA-256. Load with `crknee.data.load(name)`; the format is in docs/data.md.",
        "",
        "## Datasets per quantity",
        "",
        "| quantity | datasets |",
        "|---|---|",
    ]
    counts = {q: sum(r["quantity"] == q for r in rows) for q in QUANTITIES}
    lines += [f"| {q} | {n} |" for q, n in counts.items()]
    lines += [
        f"| **total** | {sum(counts.values())} |",
        "",
        "## Datasets",
        "",
        "| name | quantity | experiment | reference | origin | licence |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{r['name']}` | {r['quantity']} | {cell(r['experiment'])} | {cell(r['reference'])} | "
        f"{cell(r['origin'])} | {cell(r['licence'])} |"
        for r in rows
    ]
    lines += composition_md(rows)
    lines += anisotropy_md([r for r in rows if r["quantity"] == "anisotropy"])
    lines += ["", "## Solver tables (original files, `crknee.data.raw_path`)", "", "| file | licence |", "|---|---|"]
    for path in store.bundled_files(out):
        rel = path.relative_to(out / "bundled").as_posix()
        if rel.split("/")[0] in ("nuclear", "ism"):
            lic = (
                "MIT (CRAMS, (c) 2018 C. Evoli)"
                if "/crams/" in f"/{rel}"
                else "MIT (XS4GCR)"
                if "/xs4gcr/" in f"/{rel}" or "/usine_v3.5/" in f"/{rel}"
                else "derived/transcribed facts; see nuclear/SOURCES.md or ism/SOURCES.md"
            )
            lines.append(f"| `{rel}` | {lic} |")
    lines += [
        "",
        "## Licences",
        "",
        "- crknee is MIT. Measurements are published facts; each dataset's `licence` records its origin's terms.",
        "- KISS-CosmicRayDataBase: MIT (every `nuclei`, `ratio` and `lnA` table, and most spectra). crspectra 1.1.1: "
        "GPL-3.0-only (its data are published measurements; attribution kept).",
        "- Gamma-ray SEDs and catalogues come from GitHub repositories without a licence file; attribution kept.",
        "- Anisotropy: the CRDB compilation is read back from crdb-project/tutorial's figure (cite CRDB, "
        "Maurin et al. 2023, and the original papers); single values are quoted from published abstracts; the "
        "Li et al. 2024 Fig. 3 digitisation comes from a GitHub repository whose licence was not checked.",
        "- CRAMS, XS4GCR and the USINE/XS4GCR v2 tables: MIT (licence files bundled beside them).",
        "- DRAGON2's tables (`shared/data/nuclear/dragon2/`) and its two source-abundance files "
        "(`nuclear/source_abundances/DRAGON2_*.source.param`) are GPL-2.0 and are **not bundled**; "
        "the MIT CRAMS/XS4GCR/USINE tables carry the same physics, and the GALPROP default abundances "
        "are in `GALPROP_galdef_56_example_iso_abundances.csv`. `nuclear/MANIFEST.tsv` and "
        "`nuclear/SOURCES.md` still describe them.",
        "",
        "## Gaps (not in the data; never filled with invented numbers)",
        "",
        "- LHAASO SEDs of SS 433, GRS 1915+105, MAXI J1820+070 and Cyg X-1 (paper Fig. 2).",
        "- Anisotropy: Auger 2024 (arXiv:2408.05292) is not in the June 2023 CRDB compilation; the source paper "
        "of each CRDB row is not given by the figure (the datasets cite the figure's bibcode list).",
        "- Avakyan et al. 2023 LMXB catalogue with distances (LMXBs here have no distances).",
        "- `<lnA>`: the hadronic model of KASCADE (Kuznetsov 2024), TALE and Yakutsk is not named by their files "
        "(`hadronic_model` is empty); Yakutsk gives statistical errors only (`y_sys` 0, as in the file).",
        "",
    ]
    return "\n".join(lines)


def composition_md(rows: list[dict]) -> list[str]:
    """DATA.md section: element spectra, ratios and <lnA> with their species, variable and rows."""
    lines = [
        "",
        "## Element spectra, ratios and `<lnA>`",
        "",
        "`species` / `numerator`/`denominator`: element symbols (crknee.kinematics); `x_variable` as "
        "published (R rigidity, Ekn kinetic energy per nucleon, Ek per particle, Etot total energy per "
        "particle); `hadronic_model` where the source names one.",
        "",
        "| name | what | x_variable | hadronic model | rows |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if r["quantity"] not in ("nuclei", "bc", "ratio", "lnA"):
            continue
        what = {"nuclei": lambda: f"{r['species']} flux", "lnA": lambda: "`<lnA>`"}.get(
            r["quantity"], lambda: f"{r['numerator']}/{r['denominator']}"
        )()
        lines.append(
            f"| `{r['name']}` | {what} | {r['x_variable']} | {r.get('hadronic_model') or ''} | {r['n_rows']} |"
        )
    lines += ["", "### Not bundled", "", "| source file | reason |", "|---|---|"]
    lines += [f"| `{rel}` | {why} |" for rel, why in NOT_BUNDLED.items()]
    return lines


def anisotropy_md(rows: list[dict]) -> list[str]:
    """DATA.md section: every anisotropy dataset with its convention, site, factor and role."""
    from crknee.anisotropy.conventions import mean_cos_dec

    def fmt(value):
        return "" if value is None else f"{value:g}"

    lines = [
        "",
        "## Anisotropy datasets: what each one measured",
        "",
        "`convention`: `d_perp` equatorial dipole, `r1` first harmonic in RA of the array (factor "
        "<cos dec> = r1 / d_perp for a pure dipole, from the site latitude and zenith cut; in brackets at 45 deg), "
        "`r1_dec0` first harmonic referred to dec 0, `d_3d` 3D dipole. `role`: `fit` or `cross-check`. "
        "`duplicate of`: the same rows, never fit both. Each dataset's `convention_reference` gives the "
        "reasons and sources (marked APPROXIMATE / ASSUMPTION / NOT ESTABLISHED where they apply); "
        "rows: all / in 1e6-2e9 GeV (the paper's window; a point or any overlap of its bin).",
        "",
        "| name | convention | latitude [deg] | zenith max [deg] | factor | UL CL | role | duplicate of | rows |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        factor = ""
        if r["convention"] == "r1":
            factor = (
                f"{mean_cos_dec(r['site_latitude_deg'], r['zenith_max_deg']):.3f} "
                f"({mean_cos_dec(r['site_latitude_deg'], 45.0):.3f})"
            )
        elif r["convention"] in ("d_perp", "r1_dec0"):
            factor = "1"
        lines.append(
            f"| `{r['name']}` | {r['convention']} | {fmt(r.get('site_latitude_deg'))} | "
            f"{fmt(r.get('zenith_max_deg'))} | {factor} | {fmt(r.get('upper_limit_cl'))} | {r['role_hint']} | "
            f"{'`' + r['duplicate_of'] + '`' if r.get('duplicate_of') else ''} | {r['n_rows']} / {r['n_window']} |"
        )
    return lines


def _window_rows(table, lo: float = 1e6, hi: float = 2e9) -> int:
    """Rows of an anisotropy table at 1e6-2e9 GeV: a point inside, or a bin/threshold overlapping it."""
    x, x_lo, x_hi = (np.asarray(table[c].to_value(u.GeV)) for c in ("x", "x_lo", "x_hi"))
    top = np.where(np.isfinite(x_hi), x_hi, np.where(np.isfinite(x), x, np.inf))
    bottom = np.where(np.isfinite(x_lo), x_lo, x)
    inside = np.where(np.isfinite(x) & ~np.isfinite(x_lo), (x >= lo) & (x <= hi), (bottom <= hi) & (top >= lo))
    return int(np.sum(inside))


def build(root: Path, out: Path) -> list[dict]:
    for q in QUANTITIES:
        folder = out / "bundled" / FOLDERS[q]
        for old in folder.glob("*.ecsv"):
            old.unlink()
    rows = []
    for quantity, stem, table in datasets(root):
        name = f"{quantity}/{stem}"
        table.meta["name"] = name
        clean = canonical(table, quantity, name)
        atomic_write_table(clean, out / "bundled" / FOLDERS[quantity] / f"{stem}.ecsv")
        info = dict(clean.meta, n_rows=len(clean))
        if quantity == "anisotropy":
            info.update(n_window=_window_rows(clean))
        rows.append(info)
    copy_raw(root, out)
    atomic_write_text(out / "MANIFEST.sha256", store.manifest_text(out))
    atomic_write_text(out / "DATA.md", data_md(rows, out))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=store.DATA_DIR)
    args = parser.parse_args(argv)
    rows = build(args.source.resolve(), args.out.resolve())
    print(f"wrote {len(rows)} datasets to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import shutil
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Table

from crknee.data import store
from crknee.data.csvfile import parse_header, read
from crknee.data.schema import FOLDERS, QUANTITIES, SPECTRA, canonical
from crknee.data.user import from_csv
from crknee.io import atomic_write_table, atomic_write_text, sha256_file

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared beside the checkout
#: GPL-2.0 DRAGON2 material (the folder and the two copied .source.param files): not
#: redistributable inside an MIT package (nuclear/SOURCES.md sections 1 and 7).
SKIP_RAW = ("dragon2", "DRAGON2_")

LICENCES = (
    ("KISS-CosmicRayDataBase", "MIT (KISS-CosmicRayDataBase, (c) 2020 Carmelo Evoli); cite the original paper and its upstream database (CRDB/KCDC/SSDC)"),
    ("crspectra", "GPL-3.0-only (PyPI crspectra 1.1.1 data file); published measurements, attribution kept"),
    ("abstract text", "published abstract (facts, no licence); cite the paper"),
)
NO_LICENCE = "no licence file in the origin repository; published measurements (facts), attribution kept"

GAMMA = {  # stem: (source, experiment, region, x col, x_lo, x_hi, y col, y unit, err_lo, err_hi)
    "V4641Sgr_LHAASO": ("V4641 Sgr", None, None, "E_TeV", None, None, "E2dNdE_erg_cm2_s", "erg cm-2 s-1", "E2dNdE_err_lo", "E2dNdE_err_hi"),
    "V4641Sgr_HESS": ("V4641 Sgr", None, None, "E_TeV", "E_lo_TeV", "E_hi_TeV", "E2dNdE_erg_cm2_s", "erg cm-2 s-1", "E2dNdE_err_lo", "E2dNdE_err_hi"),
    "V4641Sgr_HAWC_northern": ("V4641 Sgr", None, "northern component", "E_TeV", None, None, "E2dNdE_TeV_cm2_s", "TeV cm-2 s-1", "E2dNdE_err_lo", "E2dNdE_err_hi"),
    "V4641Sgr_HAWC_southern": ("V4641 Sgr", None, "southern component", "E_TeV", None, None, "E2dNdE_TeV_cm2_s", "TeV cm-2 s-1", "E2dNdE_err_lo", "E2dNdE_err_hi"),
    "V4641Sgr_HAWC_total": ("V4641 Sgr", None, "whole source (single asymmetric Gaussian)", "E_TeV", None, None, "E2dNdE_TeV_cm2_s", "TeV cm-2 s-1", "E2dNdE_err_lo", "E2dNdE_err_hi"),
    "SS433_HESS_east": ("SS 433", "H.E.S.S.", "eastern jet region", "E_TeV", "E_lo_TeV", "E_hi_TeV", "E2dNdE_TeV_cm-2_s-1", "TeV cm-2 s-1", "err_lo", "err_hi"),
    "SS433_HESS_west": ("SS 433", "H.E.S.S.", "western jet region", "E_TeV", "E_lo_TeV", "E_hi_TeV", "E2dNdE_TeV_cm-2_s-1", "TeV cm-2 s-1", "err_lo", "err_hi"),
    "SS433_HAWC_20TeV_lobes": ("SS 433", "HAWC", None, "E_TeV", "E_lo_TeV", "E_hi_TeV", "E2dNdE_TeV_cm-2_s-1", "TeV cm-2 s-1", "err_lo", "err_hi"),
}
GAMMA_EXTRA_UNITS = {"dNdE_TeV-1_cm-2_s-1": "TeV-1 cm-2 s-1", "dNdE_stat_err": "TeV-1 cm-2 s-1",
                     "dNdE_syst_a": "TeV-1 cm-2 s-1", "dNdE_syst_b": "TeV-1 cm-2 s-1"}
GAMMA_EXTRAS = ("ts", "norm", "fit_success") + tuple(GAMMA_EXTRA_UNITS)

CATALOG_LABELS = {
    "HMXB_Neumann2023": "XRBcats HMXB catalogue (Neumann et al. 2023)",
    "HMXB_Fortin2023": "HMXB catalogue (Fortin et al. 2023)",
    "LMXB_Liu2007": "LMXB catalogue, 4th edition (Liu et al. 2007)",
    "LMXB_ScorpionesXone2021_unpublished": "unpublished LMXB compilation (ScorpionesXone 2021)",
}
CATALOG_RENAME = {"l_deg": "l", "b_deg": "b", "ra_deg": "ra", "dec_deg": "dec", "distance_kpc": "distance",
                  "distance_lo_kpc": "distance_lo", "distance_hi_kpc": "distance_hi"}
UNIT_SUFFIX = {"_kpc": "kpc", "_deg": "deg", "_d": "d", "_s": "s", "_msun": "solMass", "_uJy": "uJy"}
NO_DISTANCE = ("Distances are not given: the Avakyan et al. 2023 (A&A 675, A199) XRBcats LMXB "
               "catalogue with distances is not available to crknee; distance columns are NaN.")


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


def spectrum(path: Path, quantity: str, root: Path) -> Table:
    table = from_csv(path, quantity)
    table.meta = provenance(table.meta["source_header"], path, root)
    if path.stem == "CREAM_2017_crspectra":  # "energy as stored by crspectra ... matches CREAM kinetic energy bins"
        table.meta["x_variable"] = "Ek"
    if quantity not in ("proton", "helium"):
        table.meta["species"] = None
    return table


def anisotropy(path: Path, root: Path) -> Table:
    src, header = read(path)
    meta = provenance(header, path, root)
    meta["notes"] = " | ".join(x for x in (meta.get("energy_definition", ""), meta["notes"]) if x)
    cols = {"x": "E_GeV", "x_lo": "E_lo_GeV", "x_hi": "E_hi_GeV", "y": "amplitude", "y_err_lo": "amplitude_err_lo",
            "y_err_hi": "amplitude_err_hi", "phase": "phase_deg", "phase_err_lo": "phase_err_lo", "phase_err_hi": "phase_err_hi"}
    out = Table(meta=meta)
    for new, old in cols.items():
        unit = "GeV" if new.startswith("x") else ("deg" if new.startswith("phase") else "")
        out[new] = src[old] * u.Unit(unit)
    out["upper_limit"] = np.nan_to_num(src["amplitude_upper_limit"], nan=0.0)
    return out


def gamma(path: Path, root: Path) -> list[tuple[str, Table]]:
    src, header = read(path)
    meta = provenance(header, path, root)
    source, experiment, region, x, x_lo, x_hi, y, y_unit, e_lo, e_hi = GAMMA[path.stem]
    meta.update(source=source, region=region)
    if experiment:
        meta["experiment"] = experiment
    meta["notes"] = " | ".join(x for x in (meta["notes"], f"y = column {y!r} of the source (unit {y_unit}); "
                                           "derived unit copies in the source file are not kept") if x)
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
    for reg in sorted(set(str(r) for r in src["region"])):
        part = out[src["region"] == reg]
        part.meta = {**meta, "region": f"{reg} lobe",
                     "notes": meta["notes"] + f" | rows of region {reg!r} of {path.name} (split per region)"}
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
        notes.append("distance_lo/hi = distance -/+ the catalogue's distance errors (computed here); "
                     "the errors are kept in distance_err_lo_kpc/distance_err_hi_kpc")
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
        for path in sorted((root / "cr" / q).glob("*.csv")):
            yield q, path.stem, spectrum(path, q, root)
    for path in sorted((root / "anisotropy").glob("*.csv")):
        yield "anisotropy", path.stem, anisotropy(path, root)
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

    lines = ["# Bundled data of crknee", "",
             "Generated by `tools/build_data.py` from `shared/data` (do not edit by hand). Each dataset's",
             "ECSV meta holds the full provenance: the source file's `#` lines verbatim (`source_header`),",
             "its path and SHA-256. Load with `crknee.data.load(name)`; the format is in docs/data.md.", "",
             "## Datasets per quantity", "", "| quantity | datasets |", "|---|---|"]
    counts = {q: sum(r["quantity"] == q for r in rows) for q in QUANTITIES}
    lines += [f"| {q} | {n} |" for q, n in counts.items()]
    lines += [f"| **total** | {sum(counts.values())} |", "", "## Datasets", "",
              "| name | quantity | experiment | reference | origin | licence |", "|---|---|---|---|---|---|"]
    lines += [f"| `{r['name']}` | {r['quantity']} | {cell(r['experiment'])} | {cell(r['reference'])} | "
              f"{cell(r['origin'])} | {cell(r['licence'])} |" for r in rows]
    lines += ["", "## Solver tables (original files, `crknee.data.raw_path`)", "", "| file | licence |", "|---|---|"]
    for path in store.bundled_files(out):
        rel = path.relative_to(out / "bundled").as_posix()
        if rel.split("/")[0] in ("nuclear", "ism"):
            lic = ("MIT (CRAMS, (c) 2018 C. Evoli)" if "/crams/" in f"/{rel}" else
                   "MIT (XS4GCR)" if "/xs4gcr/" in f"/{rel}" or "/usine_v3.5/" in f"/{rel}" else
                   "derived/transcribed facts; see nuclear/SOURCES.md or ism/SOURCES.md")
            lines.append(f"| `{rel}` | {lic} |")
    lines += ["", "## Licences", "",
              "- crknee is MIT. Measurements are published facts; each dataset's `licence` records its origin's terms.",
              "- KISS-CosmicRayDataBase: MIT. crspectra 1.1.1: GPL-3.0-only (its data are published measurements; attribution kept).",
              "- Gamma-ray SEDs and catalogues come from GitHub repositories without a licence file; attribution kept.",
              "- Anisotropy values are quoted from published abstracts.",
              "- CRAMS, XS4GCR and the USINE/XS4GCR v2 tables: MIT (licence files bundled beside them).",
              "- DRAGON2's tables (`shared/data/nuclear/dragon2/`) and its two source-abundance files "
              "(`nuclear/source_abundances/DRAGON2_*.source.param`) are GPL-2.0 and are **not bundled**; "
              "the MIT CRAMS/XS4GCR/USINE tables carry the same physics, and the GALPROP default abundances "
              "are in `GALPROP_galdef_56_example_iso_abundances.csv`. `nuclear/MANIFEST.tsv` and "
              "`nuclear/SOURCES.md` still describe them.",
              "", "## Gaps (not in the data; never filled with invented numbers)", "",
              "- LHAASO SEDs of SS 433, GRS 1915+105, MAXI J1820+070 and Cyg X-1 (paper Fig. 2).",
              "- Most of the anisotropy compilation (per-energy tables of Auger 2020/2024, IceCube/IceTop, "
              "Tibet, ARGO-YBJ, HAWC, LHAASO; KASCADE-Grande amplitudes and phases).",
              "- Avakyan et al. 2023 LMXB catalogue with distances (LMXBs here have no distances).", ""]
    return "\n".join(lines)


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
        rows.append(dict(clean.meta))
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

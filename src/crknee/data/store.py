"""Where datasets live: the bundled folder, the per-user folder, the SHA-256 manifest.

Dataset names are ``<quantity>/<stem>``; ``<stem>.ecsv`` sits in the quantity's folder
(:data:`crknee.data.schema.FOLDERS`) of the bundled tree, or in ``<quantity>/`` of the
user folder. Bundled data are searched first; a user file never shadows a bundled one.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from pathlib import Path

import platformdirs

from crknee.data.schema import FOLDERS, QUANTITIES
from crknee.errors import DataError
from crknee.io import sha256_file

#: The package data folder (holds ``bundled/``, ``MANIFEST.sha256``, ``DATA.md``).
DATA_DIR = Path(__file__).resolve().parent
BUNDLED = DATA_DIR / "bundled"
MANIFEST = DATA_DIR / "MANIFEST.sha256"
#: Environment variable that overrides the per-user data folder (used by the tests).
USER_ENV = "CRKNEE_USER_DATA"


def user_dir() -> Path:
    """Per-user data folder: ``$CRKNEE_USER_DATA`` or platformdirs' user_data_dir("crknee")."""
    env = os.environ.get(USER_ENV)
    return Path(env) if env else Path(platformdirs.user_data_dir("crknee"))


def check_quantity(quantity: str) -> str:
    if quantity not in QUANTITIES:
        raise DataError(f"unknown quantity {quantity!r}; expected one of {', '.join(QUANTITIES)}")
    return quantity


def bundled_path(name: str) -> Path:
    quantity, stem = split_name(name)
    return BUNDLED / FOLDERS[quantity] / f"{stem}.ecsv"


def user_path(name: str) -> Path:
    quantity, stem = split_name(name)
    return user_dir() / quantity / f"{stem}.ecsv"


def split_name(name: str) -> tuple[str, str]:
    """``"proton/AMS02_2015"`` -> ("proton", "AMS02_2015"), checking the quantity and stem."""
    quantity, sep, stem = str(name).partition("/")
    if not sep or not stem or "/" in stem or stem.startswith("."):
        raise DataError(f"dataset name {name!r} is not of the form <quantity>/<stem>")
    return check_quantity(quantity), stem


def _stems(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.ecsv")) if folder.is_dir() else []


def names(quantity: str | None = None, pattern: str | None = None) -> list[str]:
    """Every dataset name (bundled first, then user data), optionally of one quantity.

    ``pattern`` keeps the names matching a shell-style pattern (:func:`fnmatch.fnmatchcase`),
    e.g. ``names(pattern="anisotropy/CRDB_*")`` = the CRDB world compilation, one dataset
    per experiment. A pattern without ``/`` is matched against the stem only.
    """
    quantities = QUANTITIES if quantity is None else (check_quantity(quantity),)
    out = []
    for q in quantities:
        bundled = _stems(BUNDLED / FOLDERS[q])
        out += [f"{q}/{s}" for s in bundled]
        out += [f"{q}/{s}" for s in _stems(user_dir() / q) if s not in bundled]
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            raise DataError(f"dataset pattern must be a non-empty string; got {pattern!r}")
        out = [n for n in out if fnmatchcase(n if "/" in pattern else n.partition("/")[2], pattern)]
    return out


def find(name: str) -> Path:
    """Path of dataset ``name``'s ECSV file (bundled, else user); DataError if unknown."""
    for path in (bundled_path(name), user_path(name)):
        if path.is_file():
            return path
    quantity, _ = split_name(name)
    where = "$" + USER_ENV if os.environ.get(USER_ENV) else "platformdirs' user data folder"
    raise DataError(
        f"unknown dataset {name!r}: not bundled, and not in the user data folder {user_dir()} ({where}); "
        f"`crknee data list` shows the names, `crknee data add FILE --quantity {quantity}` adds yours"
    )


def raw_path(relpath: str) -> Path:
    """Path of a bundled original file, e.g. ``raw_path("nuclear/crams/xsecs_0.1_100_1.1.txt")``.

    ``relpath`` is relative to ``bundled/`` (the solver tables ``nuclear/...``, ``ism/...``).
    """
    path = (BUNDLED / relpath).resolve()
    if BUNDLED not in path.parents or not path.is_file():
        raise DataError(f"no bundled file {relpath!r} under {BUNDLED}")
    return path


def bundled_files(root: Path | None = None) -> list[Path]:
    """Every file of ``root/bundled`` (default: the package's), sorted (hidden files excluded)."""
    root = DATA_DIR if root is None else Path(root)
    return sorted(p for p in (root / "bundled").rglob("*") if p.is_file() and not p.name.startswith("."))


def manifest_text(root: Path | None = None) -> str:
    """``sha256  bundled/<path>`` lines of every bundled file under ``root`` (default: the package's)."""
    root = DATA_DIR if root is None else Path(root)
    return "".join(f"{sha256_file(p)}  {p.relative_to(root).as_posix()}\n" for p in bundled_files(root))


def verify_manifest(root: Path | None = None) -> list[str]:
    """Problems between ``root/MANIFEST.sha256`` and ``root/bundled`` (empty list = intact)."""
    root = DATA_DIR if root is None else Path(root)
    manifest = root / MANIFEST.name
    if not manifest.is_file():
        return [f"manifest {manifest} is missing"]
    listed = {}
    for line in manifest.read_text().splitlines():
        digest, _, rel = line.partition("  ")
        listed[rel] = digest
    problems = []
    on_disk = {p.relative_to(root).as_posix(): p for p in bundled_files(root)}
    for rel, digest in listed.items():
        if rel not in on_disk:
            problems.append(f"missing: {rel}")
        elif sha256_file(on_disk[rel]) != digest:
            problems.append(f"checksum mismatch: {rel}")
    problems += [f"not in manifest: {rel}" for rel in on_disk if rel not in listed]
    return problems

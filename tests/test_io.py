"""Atomic writes never leave a partial file behind."""

import json

import pytest
from astropy.table import QTable

from crknee.io import atomic_write_json, atomic_write_table, atomic_write_text


def test_text_and_json(tmp_path):
    p = atomic_write_text(tmp_path / "a" / "x.txt", "hello")
    assert p.read_text() == "hello"
    atomic_write_json(tmp_path / "s.json", {"a": 1})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": 1}
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a", "s.json"]


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "t.ecsv"
    atomic_write_text(target, "old")

    class Boom:
        def write(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_table(Boom(), target)
    assert target.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["t.ecsv"]


def test_table_round_trip(tmp_path):
    import astropy.units as u

    t = QTable({"E": [1.0, 2.0] * u.GeV})
    atomic_write_table(t, tmp_path / "t.ecsv")
    assert QTable.read(tmp_path / "t.ecsv")["E"].unit == u.GeV


def test_sha256_file_known_digest(tmp_path):
    from crknee.io import sha256_file

    (tmp_path / "abc").write_bytes(b"abc")  # FIPS 180-2 test vector
    assert sha256_file(tmp_path / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_results_get_ordinary_file_permissions(tmp_path):
    """mkstemp makes 0600 files; results must be readable like any new file (0666 & ~umask)."""
    import os

    umask = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "r.txt", "x")
    finally:
        os.umask(umask)
    assert (p.stat().st_mode & 0o777) == 0o644

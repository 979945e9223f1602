"""Atomic writing of result files (tables, JSON, text): never a half-written output;
and the SHA-256 of a file (data manifest, pipeline cache keys)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_target(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file gets the permissions of an ordinary new file (0666 less the
    umask) instead of mkstemp's 0600, so results stay readable by their group.
    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder + rename."""
    with atomic_target(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_write_table(table, path, format: str = "ascii.ecsv") -> Path:
    """Write an astropy table atomically (ECSV by default)."""
    with atomic_target(path, suffix=Path(path).suffix) as tmp:
        table.write(tmp, format=format, overwrite=True)
    return Path(path)


def sha256_file(path) -> str:
    """Hex SHA-256 of the bytes of ``path`` (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: sha256_cached's memo: (resolved path, inode, size, mtime_ns) -> hex digest.
_HASHES: dict = {}


def sha256_cached(path) -> str:
    """:func:`sha256_file` memoised on the file's (path, inode, size, mtime) in this process.

    For inputs that are read many times per run (the datasets in every cache key); a file
    rewritten in place changes its mtime and size, so it is hashed again.  Integrity checks
    of outputs use :func:`sha256_file`, which always reads the bytes.
    """
    p = Path(path).resolve()
    st = p.stat()
    tag = (str(p), st.st_ino, st.st_size, st.st_mtime_ns)
    digest = _HASHES.get(tag)
    if digest is None:
        digest = _HASHES[tag] = sha256_file(p)
    return digest

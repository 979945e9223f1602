"""One crknee run per output folder: an advisory lock (POSIX ``fcntl.flock``).

``with output_lock(folder):`` holds ``folder/.crknee.lock`` for the duration of a run.  The
file records the holder's pid, host and start time (UTC); a second run into the same
folder fails at once with :class:`LockedError`::

    another crknee run holds results since 2026-12-03 07:40:01 UTC (pid 1234 on host)

The kernel releases a flock when its process dies, however it dies (SIGKILL included), so a
lock file left behind by a dead run is stale by construction: the next run takes it over,
and :func:`output_lock` yields a note naming the dead pid (for the run's log).  The lock
is re-entrant within one process (the pipeline and its step runner both take it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from crknee.errors import CrkneeError

LOCK_FILE = ".crknee.lock"

#: folders locked by this process: resolved path -> [open file, depth, stale-lock note not yet logged]
_HELD: dict = {}


class LockedError(CrkneeError):
    """Another live crknee process holds the output folder."""


def _holder(text: str) -> dict:
    try:
        info = json.loads(text)
        return info if isinstance(info, dict) else {}
    except ValueError:
        return {}


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextlib.contextmanager
def output_lock(folder):
    """Hold the advisory lock of ``folder`` (created if needed); :class:`LockedError` if taken.

    Yields None, or where a stale lock was taken over the note "stale lock of pid N
    (started ..., no longer running) taken over"; a re-entrant call of the same process
    receives that note too (once), so that an inner caller with a log can record it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    if key in _HELD:
        held = _HELD[key]
        held[1] += 1
        note, held[2] = held[2], None
        try:
            yield note
        finally:
            held[1] -= 1
        return
    fh = open(folder / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            info = _holder(fh.read())
            since = info.get("since", "an unknown time")
            raise LockedError(
                f"another crknee run holds {folder} since {since} "
                f"(pid {info.get('pid', '?')} on {info.get('host', '?')}); wait for it or use another --out"
            ) from None
        fh.seek(0)
        old = _holder(fh.read())
        note = None
        if old.get("pid") and old.get("host") == socket.gethostname() and not _alive(old["pid"]):
            note = f"stale lock of pid {old['pid']} (started {old.get('since')}, no longer running) taken over"
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                }
            )
        )
        fh.flush()
        _HELD[key] = [fh, 1, note]
        try:
            yield note
        finally:
            del _HELD[key]
            fh.seek(0)
            fh.truncate()
            fh.flush()
    finally:
        fh.close()  # closing the file releases the flock

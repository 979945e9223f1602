"""Integrity of what crknee reuses (issue 11), unit by unit: the state format (no pickle,
exact round trip, dict order kept), the damage checks of the step runner, data files in the cache key,
the output-folder lock, the chain check, the hash memo."""

import json
import multiprocessing
import os
import pickle
import shutil
import time

import astropy.units as u
import numpy as np
import pytest

from crknee import config as cfgmod
from crknee.errors import CrkneeError, DataError
from crknee.io import sha256_cached, sha256_file
from crknee.lock import LOCK_FILE, LockedError, output_lock
from crknee.pipeline.engine import Step, StepResult, data_digest, run_steps
from crknee.pipeline.states import DamagedStateError, decode_point_source, encode_point_source, read_state, write_state


# ------------------------------------------------------------------------------ states
def test_state_round_trip_is_exact_and_deterministic(tmp_path):
    tree = {
        "z": 1,
        "a": np.linspace(0.0, 1.0, 7) ** 0.5,
        "nested": [{"x": 1.0 / 3.0, "n": None, "s": "He4"}, True],
        "i": np.arange(6, dtype=np.int64).reshape(2, 3),
        "f": np.float64(2.0) / 7.0,
    }
    write_state(tmp_path / "s1.npz", tree)
    time.sleep(1.1)  # a later write of the same tree gives the same bytes (fixed member times)
    write_state(tmp_path / "s2.npz", tree)
    assert sha256_file(tmp_path / "s1.npz") == sha256_file(tmp_path / "s2.npz")
    back = read_state(tmp_path / "s1.npz")
    assert np.array_equal(back["a"], tree["a"]) and back["a"].dtype == tree["a"].dtype
    assert np.array_equal(back["i"], tree["i"]) and back["nested"] == tree["nested"] and back["f"] == tree["f"]
    assert list(back) == list(tree)  # the order of a dict is kept (e.g. the sources of a table)


def test_states_cannot_hold_or_load_python_objects(tmp_path):
    with pytest.raises(CrkneeError, match="cannot hold a object"):
        write_state(tmp_path / "x.npz", {"f": object()})
    with pytest.raises(CrkneeError, match="must hold numbers"):
        write_state(tmp_path / "x.npz", {"f": np.array([object()], dtype=object)})
    # an .npz whose array member is a pickle is refused (allow_pickle=False), not executed
    marker = tmp_path / "executed"
    evil = tmp_path / "evil.npz"
    np.savez(evil, a0=np.array([_Boom(str(marker))], dtype=object))
    import zipfile

    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("tree.json", json.dumps({"x": {"__array__": "a0"}}))
    with pytest.raises(DamagedStateError):
        read_state(evil)
    assert not marker.exists()


class _Boom:
    """Unpickling this object creates a file: proof that code ran on load."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_truncated_or_altered_state_is_damaged(tmp_path):
    write_state(tmp_path / "s.npz", {"a": np.arange(1000.0)})
    data = (tmp_path / "s.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedStateError, match="t.npz"):
        read_state(tmp_path / "t.npz")
    altered = bytearray(data)
    altered[len(data) // 2] ^= 0xFF  # inside the array: zip's CRC-32 catches it
    (tmp_path / "a.npz").write_bytes(bytes(altered))
    with pytest.raises(DamagedStateError):
        read_state(tmp_path / "a.npz")


def test_point_source_codec_reproduces_the_flux():
    from crknee.sources.injection import galprop_composition
    from crknee.sources.point import PointSource
    from crknee.transport import Diffusion

    src = PointSource(
        "snr",
        195.1,
        4.3,
        0.25,
        0.3,
        2.1,
        2.0e4,
        energy_erg=1e49,
        composition=galprop_composition(),
        diffusion=Diffusion(D0=4.0e28, delta=0.4),
    )
    tree = json.loads(json.dumps(encode_point_source(src)))  # through JSON, as stored
    back = decode_point_source(tree)
    E = np.geomspace(1e2, 1e7, 20) * u.GeV
    assert back == src
    assert np.array_equal(back.flux("H1", E).value, src.flux("H1", E).value)


# ------------------------------------------------------------------------------ runner
def _steps(calls):
    def a(ctx):
        calls.append("a")
        p = ctx.path("tables", "a.txt")
        p.write_text("a")
        return StepResult({"a": 1}, [p], state={"x": np.arange(5.0)})

    def b(ctx):
        calls.append("b")
        return StepResult({"sum": float(ctx.state("a")["x"].sum())}, [], state=None)

    return [Step("a", a, sections=("propagation",)), Step("b", b, needs=("a",))]


def _warnings(out):
    return [
        ln.split("WARNING ")[1]
        for ln in (out / "crknee.log").read_text().split("run start:")[-1].splitlines()
        if "WARNING" in ln
    ]


@pytest.mark.parametrize(
    "fault, message",
    [
        (
            lambda out: (out / "cache" / "a.state.npz").write_bytes(b"x" * 100),
            "step a: cache/a.state.npz is damaged (checksum mismatch); recomputing",
        ),
        (
            lambda out: (out / "cache" / "a.state.npz").unlink(),
            "step a: cache/a.state.npz is damaged (missing); recomputing",
        ),
        (
            lambda out: (out / "cache" / "a.json").write_text('{"key": "ab'),
            "step a: cache/a.json is damaged (unreadable: JSONDecodeError); recomputing",
        ),
        (
            lambda out: (out / "cache" / "a.json").write_text("[1, 2]"),
            "step a: cache/a.json is damaged (not a step record); recomputing",
        ),
        (
            lambda out: (out / "tables" / "a.txt").write_text("b"),
            "step a: tables/a.txt is damaged (checksum mismatch); recomputing",
        ),
    ],
)
def test_damage_is_one_log_line_and_recomputes_that_step_only(tmp_path, fault, message):
    calls = []
    steps = _steps(calls)
    first = run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    fault(tmp_path)
    calls.clear()
    again = run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    assert calls == ["a"], calls  # b consumed a byte-identical state: it stays cached
    assert again.summaries == first.summaries
    assert [w for w in _warnings(tmp_path) if "recomputing" in w or "damaged" in w] == [message]
    assert (tmp_path / "tables" / "a.txt").read_text() == "a"


def test_a_changed_state_reruns_its_downstream(tmp_path):
    calls, value = [], {"v": 1.0}

    def a(ctx):
        calls.append("a")
        return StepResult({}, [], state=np.array([value["v"]]))

    def b(ctx):
        calls.append("b")
        return StepResult({"got": float(ctx.state("a")[0])}, [], state=None)

    steps = [Step("a", a, sections=("run",)), Step("b", b, needs=("a",))]
    run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    (tmp_path / "cache" / "a.state.npz").unlink()
    value["v"] = 2.0  # a non-deterministic upstream: its new state differs from the one b used
    calls.clear()
    res = run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    assert calls == ["a", "b"] and res.summaries["b"] == {"got": 2.0}


def test_a_pickle_left_in_the_cache_is_never_loaded(tmp_path):
    calls = []
    steps = _steps(calls)
    run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    marker = tmp_path / "executed"
    (tmp_path / "cache" / "a.pkl").write_bytes(pickle.dumps(_Boom(str(marker))))
    (tmp_path / "cache" / "b.json").unlink()
    run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    assert not marker.exists()


def test_data_files_are_in_the_key(tmp_path, monkeypatch):
    """A changed data file (user data here; bundled files the same way) reruns the steps,
    and a bundled file that differs from the manifest is named before any work."""
    from crknee.data import store
    from crknee.pipeline import check_bundled_data

    user = tmp_path / "user"
    (user / "bc").mkdir(parents=True)
    monkeypatch.setenv("CRKNEE_USER_DATA", str(user))
    calls = []
    steps = _steps(calls)
    out = tmp_path / "out"
    run_steps(steps, cfgmod.load(), out, fast=False, quiet=True)
    digest = data_digest()
    (user / "bc" / "mine.ecsv").write_text("# one\n")
    assert data_digest() != digest
    calls.clear()
    run_steps(steps, cfgmod.load(), out, fast=False, quiet=True)
    assert calls == ["a", "b"]
    # a copy of the bundled tree with one file changed: the manifest check names it
    root = tmp_path / "pkgdata"
    shutil.copytree(store.DATA_DIR / "bundled", root / "bundled")
    shutil.copy(store.MANIFEST, root / "MANIFEST.sha256")
    changed = sorted((root / "bundled" / "cr").rglob("*.ecsv"))[0]
    changed.write_text(changed.read_text().replace("e", "E", 1))
    monkeypatch.setattr(store, "DATA_DIR", root)
    monkeypatch.setattr(store, "BUNDLED", root / "bundled")
    with pytest.raises(
        DataError, match=f"checksum mismatch: bundled/{changed.relative_to(root / 'bundled').as_posix()}"
    ):
        check_bundled_data()
    assert data_digest() != digest
    from crknee.pipeline import run

    with pytest.raises(DataError, match="bundled data differ from their manifest"):  # before any work
        run(cfgmod.load(), tmp_path / "never", fast=True, quiet=True)
    assert not (tmp_path / "never").exists()


def test_sha256_cached_sees_a_rewritten_file(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("one")
    first = sha256_cached(p)
    assert first == sha256_file(p) and sha256_cached(p) == first
    p.write_text("two!")
    assert sha256_cached(p) == sha256_file(p) != first


# ------------------------------------------------------------------------------ lock
def _hold(folder, ready, release):
    with output_lock(folder):
        ready.set()
        release.wait(30)


def test_lock_refuses_a_second_run_and_names_the_holder(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(
            LockedError,
            match=rf"another crknee run holds {tmp_path} since \d{{4}}-\d\d-\d\d "
            rf"\d\d:\d\d:\d\d UTC \(pid {holder.pid} on ",
        ):
            with output_lock(tmp_path):
                pass
    finally:
        release.set()
        holder.join(30)
    with output_lock(tmp_path):  # released when the holder ends
        with output_lock(tmp_path):  # re-entrant in one process
            pass


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "since": "then"}))
    with output_lock(tmp_path) as note:
        info = json.loads((tmp_path / LOCK_FILE).read_text())
        assert info["pid"] == os.getpid()
        with output_lock(tmp_path) as inner:  # the re-entrant caller (the step runner) gets it too
            assert inner == note
    assert note.startswith(f"stale lock of pid {pid} (started then")
    with output_lock(tmp_path) as note:  # released normally: nothing stale
        assert note is None


# ------------------------------------------------------------------------------ chains
def _small_chain(path) -> list:
    """Run the small chain of test_fit_sampler into ``path``; return the warnings' messages."""
    import warnings

    from crknee.fit.sampler import run
    from test_fit_sampler import SETTINGS, problem

    lp, ps = problem()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(lp, ps, SETTINGS, path)
    return [str(w.message) for w in caught]


def test_every_4kib_overwrite_of_a_chain_is_detected(tmp_path):
    """4 KiB of random bytes at every 4 KiB-aligned offset of a finished chain (and at
    unaligned ones): the whole-file check (metadata checksums + Fletcher-32) rejects each."""
    from crknee.fit.sampler import chain_problem

    path = tmp_path / "c.h5"
    _small_chain(path)
    assert chain_problem(path) is None
    clean = path.read_bytes()
    rng = np.random.default_rng(11)
    offsets = list(range(0, len(clean) - 4096, 4096)) + [int(x) for x in rng.integers(0, len(clean) - 4096, 10)]
    missed = []
    for off in offsets:
        path.write_bytes(clean[:off] + rng.bytes(4096) + clean[off + 4096 :])
        if chain_problem(path) is None:
            missed.append(off)
    assert not missed, f"undetected 4 KiB overwrites at offsets {missed} of {len(clean)} bytes"
    path.write_bytes(clean[: len(clean) // 3])
    assert chain_problem(path).startswith("unreadable")


def test_a_damaged_chain_is_set_aside_and_restarted_identically(tmp_path):
    from test_fit_sampler import SETTINGS, chain

    ref = tmp_path / "ref.h5"
    _small_chain(ref)
    path = tmp_path / "c.h5"
    data = bytearray(ref.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = os.urandom(4096)
    path.write_bytes(bytes(data))
    messages = _small_chain(path)
    assert any("c.h5 is damaged" in m and "starting a new chain" in m for m in messages), messages
    assert np.array_equal(chain(path)[0], chain(ref)[0])
    assert len(list(tmp_path.glob(".c.h5.damaged-*"))) == 1
    assert SETTINGS.nsteps == chain(path)[0].shape[0]


def test_prepare_chain_refuses_a_damaged_interrupted_chain(tmp_path):
    """A run killed inside the MCMC leaves its chain and the key it was started with, but
    no record; if the chain was damaged since, the pipeline never resumes it."""
    import logging
    import warnings
    from types import SimpleNamespace

    from crknee.pipeline.steps import _prepare_runs

    out = tmp_path / "out"
    chain = out / "chains" / "knee_mcmc" / "chain.h5"
    chain.parent.mkdir(parents=True)
    (out / "cache").mkdir()
    _small_chain(chain)
    (out / "cache" / "knee_mcmc.chain.json").write_text(json.dumps({"key": "k1"}))
    ctx = SimpleNamespace(
        out=out, _cache=out / "cache", key="k1", log=logging.getLogger("crknee.test.chain"), record=lambda step: None
    )
    _prepare_runs(ctx, [chain.parent])  # intact: resumed, left in place
    assert chain.is_file() and not list(chain.parent.glob(".chain.h5.damaged-*"))
    data = chain.read_bytes()
    chain.write_bytes(data[: len(data) // 2])  # damaged after the run was killed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _prepare_runs(ctx, [chain.parent])
    assert not chain.exists() and len(list(chain.parent.glob(".chain.h5.damaged-*"))) == 1
    assert any("chain.h5 is damaged (unreadable" in str(w.message) for w in caught)
    # a finished run's record names the chain's SHA-256: a changed chain is set aside even if readable
    _small_chain(chain)
    record = {"key": "k1", "artifacts": {"chains/knee_mcmc/chain.h5": "0" * 64}}
    ctx.record = lambda step: record
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _prepare_runs(ctx, [chain.parent])
    assert not chain.exists() and any(
        "checksum mismatch with the finished run's record" in str(w.message) for w in caught
    )

"""Fault injection (issue 11): damaged state is never trusted, and a user's input or
environment problem is one line, never a traceback.

One uninterrupted ``crknee reproduce --fast`` run at the smallest settings (``TINY``) is
made once per test session (:func:`baseline`); each fault test copies it, injects one
fault (4 KiB of a chain overwritten, a cached state altered or truncated, a record or a
table truncated, a pickle planted in the cache), reruns the same command and checks
(1) the one log line naming the damaged file, (2) which steps were recomputed, and
(3) that the outputs are identical, byte for byte, to the uninterrupted run's.  The
other tests give the command line (in this process, :func:`cli`, where no run is
needed) a read-only or file-in-the-way output, a read-only user-data folder, a non-UTF-8
config, samples in the wrong unit, a grid that cannot fit in memory, a full disk, ... and
check the exit status 2 and the single ``error:`` line; two runs into one folder meet
the lock.
"""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: The smallest run of the whole pipeline: the [fast] settings, coarser still.
TINY = """\
[fast.propagation]
n_modes = 8
points_per_decade = 4

[fast.gamma]
nwalkers = 8
nsteps = 30
burn = 10

[fast.knee_mcmc]
fixed_points_per_decade = 5

[fast.fit.sampler]
method = "emcee"
nwalkers = 24
nsteps = 40
check_every = 20
"""

STEP_NAMES = ("background", "gamma", "local_snr", "protons", "knee_mcmc", "candidates")
CHAIN = Path("chains/knee_mcmc/chain.h5")


def crknee(*args, env=None, timeout=300):
    """Run the ``crknee`` command line in a fresh interpreter."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", "from crknee.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the command line in this process (cheaper than a new interpreter): returns
    (exit status, stdout, stderr)."""
    from crknee.cli import main

    def call(*args, env=None):
        for k, v in (env or {}).items():
            monkeypatch.setenv(k, v)
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


def reproduce(out, config, *extra, check=True):
    res = crknee("reproduce", "--fast", "--quiet", "--config", config, "--out", out, *extra)
    if check:
        assert res.returncode == 0, res.stderr
    return res


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("faults_config") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, tiny_config):
    """One uninterrupted run, shared by every fault test (copied, never modified)."""
    out = tmp_path_factory.mktemp("faults_baseline") / "results"
    reproduce(out, tiny_config)
    return out


def outputs(folder: Path) -> dict:
    """What must not change after a fault and a rerun: summary.json (but the timings),
    every table, the chain, the posterior and the fixed components of the fit."""
    summary = json.loads((folder / "summary.json").read_text())
    summary.pop("timings_s")
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "tables").glob("*.ecsv"))}
    for rel in (CHAIN, CHAIN.with_name("posterior.ecsv"), CHAIN.with_name("fixed_components.h5")):
        files[rel.as_posix()] = (folder / rel).read_bytes()
    return {"summary": summary, **files}


def last_run(folder: Path) -> tuple[dict, list]:
    """(step -> "cached"/"computed", warning lines) of the last run in crknee.log."""
    text = (folder / "crknee.log").read_text().split("run start:")[-1]
    statuses, warnings = {}, []
    for line in text.splitlines():
        if " step " in line and (": cached" in line or ": computed in" in line):
            statuses[line.split(" step ")[1].split(":")[0]] = "cached" if ": cached" in line else "computed"
        if " WARNING " in line and "Warning:" not in line.split(" WARNING ")[1][:60]:
            warnings.append(line.split(" WARNING ")[1])
    return statuses, warnings


def copy_of(baseline, tmp_path) -> Path:
    out = tmp_path / "results"
    shutil.copytree(baseline, out)
    return out


def overwrite(path: Path, offset: int, n: int = 4096) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(n))


def truncate(path: Path, fraction: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


# ------------------------------------------------------------------ damaged state, then rerun
def _pickles(out: Path) -> None:
    """Plant what crknee < 0.2 stored, pickles, here ones that would run a shell command."""
    payload = b"cos\nsystem\n(S'touch " + str(out.parent / "pwned").encode() + b"'\ntR."  # protocol 0: os.system
    for step in STEP_NAMES:
        (out / "cache" / f"{step}.pkl").write_bytes(payload)
    (out / "cache/protons.json").unlink()  # protons reruns and reads its upstream states from the cache


# Each scenario injects independent faults into different steps of one copy of the
# baseline (one rerun checks them all): (setup, {file: (fault, the log's reason)}).
SCENARIOS = {
    "altered": (
        _pickles,
        {
            CHAIN.as_posix(): (lambda p: overwrite(p, p.stat().st_size // 2), "checksum mismatch"),
            "cache/background.state.npz": (lambda p: overwrite(p, 100_000), "checksum mismatch"),
            "cache/candidates.json": (truncate, "unreadable: JSONDecodeError"),
        },
    ),
    "truncated": (
        lambda out: None,
        {
            "cache/background.state.npz": (truncate, "checksum mismatch"),
            "cache/local_snr.state.npz": (lambda p: truncate(p, 0.3), "checksum mismatch"),
            "tables/candidates.ecsv": (truncate, "checksum mismatch"),
            "tables/protons_ratio.ecsv": (lambda p: p.unlink(), "missing"),
        },
    ),
}
RECOMPUTED = {
    "altered": {"background", "protons", "knee_mcmc", "candidates"},
    "truncated": {"background", "local_snr", "protons", "candidates"},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_damage_is_named_recomputed_and_the_outputs_are_identical(baseline, tiny_config, tmp_path, scenario):
    """ "altered": 4 KiB of the finished chain overwritten, the background's cached state
    altered, a record truncated, pickles planted; "truncated": cached states and tables
    truncated or deleted.  Each damaged file is named in one log line, its step (and only
    what consumed a changed state) is recomputed, the damaged chain is never resumed, no
    pickle is loaded, and the outputs equal the uninterrupted run's.  (A damaged chain of
    an interrupted run: tests/test_integrity.py, test_prepare_chain_*.)"""
    out = copy_of(baseline, tmp_path)
    setup, faults = SCENARIOS[scenario]
    setup(out)
    for rel, (fault, _) in faults.items():
        fault(out / rel)
    reproduce(out, tiny_config)
    statuses, warnings = last_run(out)
    assert {s for s, v in statuses.items() if v == "computed"} == RECOMPUTED[scenario], statuses
    for rel, (_, reason) in faults.items():
        assert any(w.endswith(f"{rel} is damaged ({reason}); recomputing") for w in warnings), (rel, warnings)
    log = (out / "crknee.log").read_text().split("run start:")[-1]
    if scenario == "altered":
        assert "chain.h5 is damaged (checksum mismatch with the finished run's record)" in log, log
        assert "moved to .chain.h5.damaged-" in log and "starting a new chain" in log
        assert "resuming the chain" not in log
    assert not (tmp_path / "pwned").exists()
    assert outputs(out) == outputs(baseline)


# ------------------------------------------------------------------ one run per folder
def test_a_second_run_into_a_held_folder_is_one_line(baseline, tiny_config, tmp_path):
    out = copy_of(baseline, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from crknee.lock import output_lock\n"
            "with output_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        res = reproduce(out, tiny_config, check=False)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert (
        res.stderr.startswith(f"error: another crknee run holds {out} since ")
        and f"(pid {holder.pid} on " in res.stderr
    )
    # the holder died (SIGKILL): its lock is stale and the next run takes it over
    reproduce(out, tiny_config)
    assert any(f"stale lock of pid {holder.pid}" in w for w in last_run(out)[1])
    assert outputs(out) == outputs(baseline)


def test_two_concurrent_runs_into_one_folder(baseline, tiny_config, tmp_path):
    """Two real runs into one folder: the second starts while the first holds the lock
    (it recomputes a step) and stops at once with the lock's message; the first completes
    and the folder equals the uninterrupted run."""
    out = copy_of(baseline, tmp_path)
    (out / "cache/candidates.json").unlink()
    cmd = [
        sys.executable,
        "-c",
        "from crknee.cli import main; main()",
        "reproduce",
        "--fast",
        "--quiet",
        "--config",
        str(tiny_config),
        "--out",
        str(out),
    ]
    # the second interpreter is started first and waits, imports and config done, so that
    # it reaches the lock within milliseconds of the go, while the first one holds it
    waiting = (
        "import sys\nfrom crknee import config, pipeline\nfrom crknee.cli import main\n"
        "config.load(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.readline()\nmain(sys.argv[2:])"
    )
    second = subprocess.Popen(
        [sys.executable, "-c", waiting, str(tiny_config), *cmd[3:]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert second.stdout.readline().strip() == "ready"
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = out / ".crknee.lock"
    while first.poll() is None and f'"pid": {first.pid}' not in lock.read_text():
        time.sleep(0.01)
    _, err2 = second.communicate("go\n", timeout=300)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 2 and err2.count("\n") == 1, err2
    assert err2.startswith(f"error: another crknee run holds {out} since ") and f"(pid {first.pid} on " in err2
    assert outputs(out) == outputs(baseline)


# ------------------------------------------------------------------ environment: one line each
def _unwritable(tmp_path) -> Path:
    """A folder this process cannot write into (a read-only folder; as root, which ignores
    permissions, a path under /sys)."""
    ro = tmp_path / "readonly"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):
        if not Path("/sys").is_dir():
            pytest.skip("running as root without /sys: no unwritable folder to test with")
        return Path("/sys/crknee-fault-test")
    return ro


def _in_the_way(tmp_path) -> Path:
    f = tmp_path / "a_file"
    f.write_text("not a folder\n")
    return f


SOURCE = (
    "source",
    "--l",
    "10",
    "--b",
    "0",
    "--distance",
    "1",
    "--age",
    "1",
    "--beta",
    "2.2",
    "--rcut",
    "3",
    "--energy",
    "1e50",
    "--n",
    "5",
    "--out",
)
COMMANDS = {
    "source": lambda d: (*SOURCE, d / "sub" / "src.ecsv"),
    "candidates": lambda d: ("candidates", "--paper-posterior", "--out", d / "sub"),
    "data-plot": lambda d: ("data", "plot", "proton", "--out", d / "sub" / "p.png"),
    "propagate": lambda d: ("propagate", "--out", d / "sub"),
}


@pytest.mark.parametrize("where", ["read-only", "file-in-the-way"])
@pytest.mark.parametrize("command", sorted(COMMANDS) + ["reproduce"])
def test_unwritable_output_is_one_line(tmp_path, cli, command, where, tiny_config):
    base = _unwritable(tmp_path) if where == "read-only" else _in_the_way(tmp_path)
    if command == "reproduce":
        args = ("reproduce", "--fast", "--quiet", "--config", tiny_config, "--out", base / "results")
    elif command == "propagate":
        args = ("propagate", "--config", tiny_config, "--out", base / "sub")
    else:
        args = COMMANDS[command](base)
    code, _, err = cli(*args)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: {base}"), err
    reason = (
        ("permission denied", "operation not permitted", "read-only file system")
        if where == "read-only"
        else ("exists and is not a folder", "a file is in the way where a folder is needed")
    )
    assert any(r in err for r in reason), err


def test_read_only_user_data_folder_is_one_line(tmp_path, cli):
    from crknee.data.store import bundled_path

    mine = tmp_path / "MyProtons.ecsv"
    shutil.copy(bundled_path("proton/AMS02_2015"), mine)
    user = _unwritable(tmp_path)
    code, _, err = cli("data", "add", mine, "--quantity", "proton", env={"CRKNEE_USER_DATA": str(user)})
    assert code == 2 and err.count("\n") == 1 and str(user) in err, err


def test_corrupt_user_dataset_does_not_stop_data_list(tmp_path, cli):
    (tmp_path / "proton").mkdir()
    (tmp_path / "proton" / "Broken.ecsv").write_bytes(b"\xff\xfe not ecsv")
    code, out, err = cli("data", "list", "--quantity", "proton", env={"CRKNEE_USER_DATA": str(tmp_path)})
    assert code == 2 and err.count("\n") == 1
    assert "proton/AMS02_2015" in out and out.splitlines()[-1].startswith("proton/Broken\tUNREADABLE")


def test_non_utf8_config_is_one_line(tmp_path, cli):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes("[propagation]\nD0_cm2_s = 3.2e28  # D\xe4mpfung\n".encode("latin-1"))
    for args in (("config", "validate", bad), ("reproduce", "--fast", "--config", bad, "--out", tmp_path / "o")):
        code, _, err = cli(*args)
        assert code == 2 and err.count("\n") == 1, err
        assert f"config '{bad}': not UTF-8 text (byte 0xe4" in err
    assert not (tmp_path / "o").exists()


def test_samples_with_distance_in_seconds_is_one_line(tmp_path, cli):
    import astropy.units as u
    from astropy.table import QTable

    samples = tmp_path / "post.ecsv"
    QTable({"l_deg": [10.0, 20.0] * u.deg, "d_kpc": [2.0, 3.0] * u.s}).write(samples)
    code, _, err = cli("candidates", "--samples", samples, "--out", tmp_path / "c")
    assert code == 2 and err.count("\n") == 1, err
    assert "column d_kpc is in s, not convertible to kpc" in err and str(samples) in err


def test_unknown_image_format_is_one_line(tmp_path, cli):
    code, _, err = cli("data", "plot", "proton", "--out", tmp_path / "x.xyz")
    assert code == 2 and err.count("\n") == 1
    assert "unknown image format 'xyz'" in err and not list(tmp_path.iterdir())


def test_source_n_is_capped(cli):
    code, _, err = cli(*SOURCE[:-3], "--n", "100000000", "--out", "unused.ecsv")
    assert code == 2 and "100000000 is not in the range 2<=x<=100000" in err


def test_grid_beyond_memory_is_refused_before_any_work(tmp_path, cli):
    cfg = tmp_path / "huge.toml"
    cfg.write_text("[propagation]\nn_modes = 100000000\n")
    for args in (
        ("config", "validate", cfg),
        ("reproduce", "--config", cfg, "--out", tmp_path / "o"),
        ("propagate", "--config", cfg, "--out", tmp_path / "p"),
        ("fit", "knee", "--config", cfg, "--out", tmp_path / "f"),
    ):
        code, _, err = cli(*args)
        assert code == 2 and err == "error: propagation.n_modes: 100000000 is above the cap 400 (memory and time)\n", (
            err
        )
    assert not any((tmp_path / d).exists() for d in "opf")


# ------------------------------------------------------------------ the one place errors become lines
def test_disk_full_is_one_line(tmp_path, monkeypatch, capsys):
    from crknee.cli import main

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "src.ecsv"))

    monkeypatch.setattr("crknee.cli.source.atomic_write_table", full)
    with pytest.raises(SystemExit) as exc:
        main([*SOURCE, str(tmp_path / "src.ecsv")])
    assert exc.value.code == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'src.ecsv'}: no space left on the device\n"


def test_memory_error_and_unit_error_are_one_line(monkeypatch, capsys):
    import astropy.units as u

    from crknee import config
    from crknee.cli import main

    for exc, text in (
        (MemoryError(), "error: out of memory"),
        (
            u.UnitConversionError("'s' (time) and 'kpc' (length) are not convertible"),
            "error: unit error: 's' (time) and 'kpc' (length) are not convertible",
        ),
    ):
        monkeypatch.setattr(config, "show", lambda name, exc=exc: (_ for _ in ()).throw(exc))
        with pytest.raises(SystemExit):
            main(["config", "show"])
        err = capsys.readouterr().err
        assert err.startswith(text) and err.count("\n") == 1


def test_a_bug_keeps_its_traceback_and_debug_shows_every_traceback(tmp_path, monkeypatch):
    from crknee import config
    from crknee.cli import main

    monkeypatch.setattr(config, "show", lambda name: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["config", "show"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[propagation]\nr_sun_kpc = 30.0\n")
    res = crknee("--debug", "config", "validate", bad)
    assert res.returncode != 0 and "Traceback (most recent call last)" in res.stderr
    assert "ConfigError: propagation.r_sun_kpc" in res.stderr


def test_fit_config_is_merged_onto_the_paper_config(tmp_path, monkeypatch):
    from crknee import config
    from crknee.cli import main

    seen = {}
    monkeypatch.setattr("crknee.fit.driver.fit", lambda section, *a, **k: seen.update(section) or {})
    monkeypatch.setattr("crknee.fit.driver.format_summary", lambda summary, reference=None: "")
    monkeypatch.setattr("crknee.cli.fit._fixed", lambda fixed, out: None)
    mine = tmp_path / "mine.toml"
    mine.write_text("[fit.sampler]\nnsteps = 77\n")
    main(["fit", "knee", "--config", str(mine), "--out", str(tmp_path / "o"), "--quiet", "--no-plots"])
    paper = config.load().section("fit")
    assert seen["sampler"]["nsteps"] == 77
    assert seen["datasets"] == paper["datasets"] and seen["parameters"] == paper["parameters"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[fit.sampler]\nseed = -1\n")
    with pytest.raises(SystemExit) as exc:
        main(["fit", "knee", "--config", str(bad), "--out", str(tmp_path / "o2")])
    assert exc.value.code == 2

"""The step runner: cache keys, reruns of exactly what changed, atomic records, errors."""

import json

import pytest

from crknee import config as cfgmod
from crknee.errors import CrkneeError
from crknee.pipeline.engine import MissingModuleError, Step, StepResult, run_steps
from crknee.pipeline.states import read_state


def _make_steps(calls):
    """Two tiny real steps: 'a' writes a table from [propagation], 'b' consumes its state."""

    def a(ctx):
        calls.append("a")
        p = ctx.path("tables", "a.txt")
        p.write_text(str(ctx.config["propagation"]["D0_cm2_s"]))
        return StepResult({"D0": ctx.config["propagation"]["D0_cm2_s"]}, [p], state=2.0)

    def b(ctx):
        calls.append("b")
        return StepResult({"twice": ctx.state("a") * 2}, [], state=None)

    def c(ctx):
        calls.append("c")
        return StepResult({"workers": ctx.config["run"]["workers"]}, [], state=None)

    return [
        Step("a", a, sections=("propagation",), modules=("crknee.transport",)),
        Step("b", b, sections=(), needs=("a",)),
        Step("c", c, sections=("run",)),
    ]


def _log_statuses(out):
    text = (out / "crknee.log").read_text().split("run start:")[-1]
    return {
        line.split("step ")[1].split(":")[0]: line.split(": ")[1].split(" ")[0]
        for line in text.splitlines()
        if " step " in line and ("cached" in line or "computed in" in line)
    }


def test_cache_reruns_only_what_changed(tmp_path):
    calls = []
    steps = _make_steps(calls)
    paper = cfgmod.load()
    summaries, timings, statuses, computed = run_steps(steps, paper, tmp_path, fast=False, quiet=True)
    assert calls == ["a", "b", "c"]
    assert summaries["b"] == {"twice": 4.0}
    assert set(timings) == {"a", "b", "c"}
    assert _log_statuses(tmp_path) == {"a": "computed", "b": "computed", "c": "computed"}

    calls.clear()
    again = run_steps(steps, paper, tmp_path, fast=False, quiet=True)
    assert calls == [] and set(again.statuses.values()) == {"cached"}
    assert again.computed_s == computed and again.summaries == summaries
    assert _log_statuses(tmp_path) == {"a": "cached", "b": "cached", "c": "cached"}

    # one parameter of [propagation] changes: a and its downstream b rerun, c does not
    changed = cfgmod.validate({"propagation": {"D0_cm2_s": 4.0e28}})
    calls.clear()
    summaries, _, statuses, _ = run_steps(steps, changed, tmp_path, fast=False, quiet=True)
    assert calls == ["a", "b"] and statuses["c"] == "cached"
    assert summaries["a"]["D0"] == 4.0e28

    # a deleted artifact is recomputed even with an unchanged key
    (tmp_path / "tables" / "a.txt").unlink()
    calls.clear()
    run_steps(steps, changed, tmp_path, fast=False, quiet=True)
    assert calls == ["a"]


def test_b_reads_upstream_state_from_cache(tmp_path):
    calls = []
    steps = _make_steps(calls)
    run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    # remove b's record: b reruns and must load a's state from the stored state file
    (tmp_path / "cache" / "b.json").unlink()
    calls.clear()
    summaries = run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True).summaries
    assert calls == ["b"] and summaries["b"] == {"twice": 4.0}
    assert read_state(tmp_path / "cache" / "a.state.npz") == 2.0
    assert not list((tmp_path / "cache").glob("*.pkl"))
    record = json.loads((tmp_path / "cache" / "a.json").read_text())
    assert set(record) == {"key", "summary", "artifacts", "state", "seconds"} and "tables/a.txt" in record["artifacts"]


def test_failing_step_leaves_no_record(tmp_path):
    def boom(ctx):
        raise RuntimeError("killed")

    steps = [Step("boom", boom, sections=("run",))]
    with pytest.raises(RuntimeError):
        run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    assert not (tmp_path / "cache" / "boom.json").exists()
    assert "step boom: computing" in (tmp_path / "crknee.log").read_text()


def test_missing_module_is_a_clear_error_before_any_work(tmp_path):
    calls = []
    steps = _make_steps(calls) + [Step("ghost", lambda ctx: None, modules=("crknee.no_such_module",))]
    with pytest.raises(MissingModuleError, match="step 'ghost' needs module crknee.no_such_module"):
        run_steps(steps, cfgmod.load(), tmp_path, fast=False, quiet=True)
    assert calls == []


def test_step_order_is_checked(tmp_path):
    steps = _make_steps([])
    with pytest.raises(CrkneeError, match="step 'b' needs 'a'"):
        run_steps([steps[1], steps[0]], cfgmod.load(), tmp_path, fast=False, quiet=True)


def _summary():
    return {
        "crknee_version": "0.1.0",
        "config": {"source": "paper", "sha256": "ab" * 32, "fast": True, "values": {}},
        "bc": {"chi2": 70.0, "ndof": 65},
        "gamma": {"SS 433": {"beta": 2.5, "L0_erg_s": 2e39, "chi2": None, "ndof": None, "proton_ratio_1PeV": 1e-3}},
        "knee_source": {
            "l_deg": [300.0, 337.0, 380.0],
            "d_kpc": [2.2, 2.6, 3.1],
            "age_Myr": [4.7, 4.8, 4.9],
            "Rcut_PV": [3.0, 5.0, 8.0],
            "converged": False,
        },
        "candidates": ["IGR J16195-4945"],
        "timings_s": {"background": 1.0},
    }


def test_summary_schema_accepts_the_documented_layout_and_names_bad_keys():
    from crknee.pipeline import validate_summary

    validate_summary(_summary())
    bad = _summary()
    bad["knee_source"]["d_kpc"] = [2.6]
    with pytest.raises(CrkneeError, match=r"\$\.knee_source\.d_kpc: expected at least 3 items"):
        validate_summary(bad)
    bad = _summary()
    bad["gamma"]["SS 433"]["ndof"] = 1.5
    with pytest.raises(CrkneeError, match=r"\$\.gamma\.SS 433\.ndof: expected integer or null"):
        validate_summary(bad)
    bad = _summary()
    del bad["bc"]["chi2"]
    with pytest.raises(CrkneeError, match=r"\$\.bc\.chi2: missing"):
        validate_summary(bad)
    bad = _summary()
    bad["extra"] = 1
    with pytest.raises(CrkneeError, match=r"\$\.extra: unexpected key"):
        validate_summary(bad)


def test_changed_user_data_reruns_the_steps(tmp_path, monkeypatch):
    user = tmp_path / "user_data"
    user.mkdir()
    monkeypatch.setenv("CRKNEE_USER_DATA", str(user))
    calls = []
    steps = _make_steps(calls)
    out = tmp_path / "out"
    run_steps(steps, cfgmod.load(), out, fast=False, quiet=True)
    (user / "gamma").mkdir()
    (user / "gamma" / "mine.ecsv").write_text("# a user dataset\n")
    calls.clear()
    run_steps(steps, cfgmod.load(), out, fast=False, quiet=True)
    assert calls == ["a", "b", "c"]

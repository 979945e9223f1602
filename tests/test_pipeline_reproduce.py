"""End to end: ``crknee reproduce --fast`` (issue 8, issue 17).

One run (a module fixture; ``make test`` keeps a file on one xdist worker) serves every
part, each its own test so that a failure names its part:

0. the first run is killed with SIGTERM inside the nested sampling of the knee-source
   fits (forwarded to the worker processes, which save their checkpoints); the rerun
   resumes the default fit from its checkpoint and completes;
1. every figure is a valid PNG (and a PDF), summary.json validates against its schema,
   report.html embeds every figure; the evidence table, the paper's mode, W and the
   sampler diagnostics are there, prior-edge flags named in the report;
2. a second run with the same config recomputes nothing (read from the log), and a
   changed [candidates] parameter reruns only the candidates step.
"""

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from astropy.table import QTable

from crknee import config as cfgmod
from crknee.pipeline import STEPS, validate_summary
from crknee.pipeline.engine import MissingModuleError, code_digest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _missing_modules():
    missing = []
    for step in STEPS:
        try:
            code_digest(step)
        except MissingModuleError as exc:
            missing.append(exc.module)
    return missing


def _reproduce(out, *extra, wait=True):
    cmd = [
        sys.executable,
        "-c",
        "from crknee.cli import main; main()",
        "reproduce",
        "--out",
        str(out),
        "--fast",
        "--quiet",
        *extra,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return stdout


def _last_run_statuses(out):
    text = (out / "crknee.log").read_text().split("run start:")[-1]
    statuses = {}
    for line in text.splitlines():
        if " step " in line and (": cached" in line or ": computed in" in line):
            name = line.split(" step ")[1].split(":")[0]
            statuses[name] = "cached" if ": cached" in line else "computed"
    return statuses


_SKIP = pytest.mark.skipif(
    bool(_missing_modules()), reason=f"physics modules not installed: {', '.join(_missing_modules())}"
)
# The parts of the scenario share one run (module fixture) on one xdist worker (``make
# test`` runs ``--dist loadfile``), each its own test so that a failure names its part.


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """0. the first run killed with SIGTERM inside the nested sampling of the default fit (the
    signal is forwarded to the worker processes, which save their checkpoints), then rerun to
    completion: (output folder, user config, the killed run's return code, checkpoint seen)."""
    tmp = tmp_path_factory.mktemp("reproduce")
    out = tmp / "results"
    user = tmp / "user.toml"  # checkpoints every 0.2 s, so that the kill below finds one
    user.write_text("[fast.fit.sampler]\ncheckpoint_every_s = 0.2\n")
    proc = _reproduce(out, "--config", str(user), wait=False)
    ckpt = out / "chains" / "knee_mcmc" / "nested.ckpt"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not ckpt.is_file():
        time.sleep(0.1)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    killed = {
        "alive_at_checkpoint": alive,
        "returncode": proc.returncode,
        "checkpoint": ckpt.is_file(),
        "summary_written": (out / "summary.json").exists(),
    }
    _reproduce(out, "--config", str(user))  # its duration is measured in benchmarks, not asserted here
    return out, user, killed


@_SKIP
def test_a_run_killed_in_the_nested_sampling_resumes_from_its_checkpoint(run):
    out, _user, killed = run
    assert killed["alive_at_checkpoint"], "the run ended before it could be interrupted in the nested sampling"
    assert killed["returncode"] != 0 and killed["checkpoint"] and not killed["summary_written"]
    statuses = _last_run_statuses(out)
    assert statuses["knee_mcmc"] == "computed" and statuses["background"] == "cached"
    assert "resuming nested sampling from chains/knee_mcmc/nested.ckpt" in (out / "crknee.log").read_text()


@_SKIP
def test_figures_summary_and_report(run):
    """1. the paper's Figs. 1-10 as PNG and PDF, summary.json against its schema, the report
    embedding every figure."""
    out = run[0]
    for n in range(1, 11):
        pngs = list((out / "figures").glob(f"fig{n:02d}_*.png"))
        assert pngs, f"Fig. {n} is missing"
        for png in pngs:
            assert png.read_bytes()[:8] == PNG_MAGIC, f"{png.name} is not a PNG"
            assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-", f"{png.stem}.pdf is missing or not a PDF"
    figures = sorted(p.stem for p in (out / "figures").glob("*.png"))
    summary = json.loads((out / "summary.json").read_text())
    validate_summary(summary)
    assert summary["config"]["fast"] is True
    assert set(summary["gamma"]) == set(cfgmod.load()["gamma"]["sources"])
    for g in summary["gamma"].values():  # issue 12: the default value lies in its plausible range
        lo, hi = g["proton_ratio_1PeV_range"]
        assert lo <= g["proton_ratio_1PeV"] * (1 + 1e-9) and g["proton_ratio_1PeV"] <= hi * (1 + 1e-9)
        assert (g["hadronic_vs_leptonic"] is None) == (g["chi2"] is None)
    assert set(summary["timings_s"]) >= {s.name for s in STEPS}
    report = (out / "report.html").read_text()
    for stem in figures:
        assert f"id='{stem}'" in report and f"{stem}.png" in report
    assert report.count("data:image/png;base64,") == len(figures)
    assert "src='http" not in report and "href='http" not in report
    assert (out / "crknee.log").is_file() and list((out / "tables").glob("*.ecsv"))


@_SKIP
def test_anisotropy_quality_and_posterior_predictive(run):
    """issue 16: every experiment's fit quality, the fitted ones (via their CRDB copies)
    marked; the posterior predictive bands ordered."""
    out = run[0]
    summary = json.loads((out / "summary.json").read_text())
    quality = QTable.read(out / "tables" / "anisotropy_fit_quality.ecsv")
    fitted = {str(n) for n, f in zip(quality["dataset"], quality["fitted"]) if f}
    assert fitted == {"anisotropy/CRDB_KASCADE-Grande", "anisotropy/CRDB_Auger_SD750", "anisotropy/CRDB_Auger_SD1500"}
    assert summary["anisotropy"]["n_datasets"] == len(quality) > 40
    assert np.isfinite(summary["anisotropy"]["deviance_isotropic"]) and summary["anisotropy"]["dof_isotropic"] > 100
    predictive = QTable.read(out / "tables" / "knee_predictive.ecsv")
    assert np.all(predictive["d_perp_p16"] <= predictive["d_perp_p84"]) and len(predictive) == 41


@_SKIP
def test_evidence_table_paper_mode_W_and_prior_edges(run):
    """issue 17: the evidence table (same data for every model, the default fit is model c),
    the paper's mode, W and the sampler; a posterior piled at a bound is named in the report."""
    out = run[0]
    summary = json.loads((out / "summary.json").read_text())
    report = (out / "report.html").read_text()
    knee = summary["knee_source"]
    evidence = QTable.read(out / "tables" / "knee_evidence.ecsv")
    assert (
        list(evidence["model"]) == list(cfgmod.load()["evidence"]["models"]) == [r["model"] for r in knee["evidence"]]
    )
    ref = evidence[list(evidence["model"]).index("c")]
    assert ref["ln_B"] == 0.0 and ref["ln_Z"] == knee["sampler"]["log_z"]
    assert np.allclose(evidence["ln_B"], evidence["ln_Z"] - ref["ln_Z"]) and np.all(evidence["n_calls"] > 0)
    assert knee["sampler"]["method"] == "dynesty nested sampling" and knee["W_erg"][0] < knee["W_erg"][2]
    assert knee["composition"] == {"H1": [1.0, 1.0, 1.0]} or all(len(v) == 3 for v in knee["composition"].values())
    paper_mode = knee["paper_mode"]
    assert paper_mode["sampler"]["method"] and paper_mode["l_deg"][0] <= paper_mode["l_deg"][2]
    section = json.loads((out / "chains" / "mode_paper" / "fit_section.json").read_text())["section"]
    assert section["knee_propagation"] == "free"
    for fit in (knee, paper_mode):
        for name, edge in fit["at_prior_edge"].items():
            assert f"{name} ({edge})" in report
    assert "337.4" in report or "-22.6" in report  # the paper's l beside both columns
    assert "paper mode" in report and "Jeffreys" in report


@_SKIP
def test_a_rerun_recomputes_nothing_and_a_changed_parameter_only_its_step(run, tmp_path):
    """2. on a copy of the finished run: the same config recomputes nothing (read from the
    log); a changed [candidates] parameter reruns only the candidates step."""
    out = tmp_path / "results"
    shutil.copytree(run[0], out)
    user = run[1]
    _reproduce(out, "--config", str(user))
    statuses = _last_run_statuses(out)
    assert set(statuses) == {s.name for s in STEPS} and set(statuses.values()) == {"cached"}, statuses
    narrower = tmp_path / "narrower.toml"
    narrower.write_text(user.read_text() + "[candidates]\nb_max_deg = 4.0\n")
    _reproduce(out, "--config", str(narrower))
    statuses = _last_run_statuses(out)
    assert statuses.pop("candidates") == "computed" and set(statuses.values()) == {"cached"}, statuses


def test_malformed_config_is_one_line_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[propagation]\nRbr_GV = "335 kpc"\n')
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            "from crknee.cli import main; main()",
            "reproduce",
            "--config",
            str(bad),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "propagation.Rbr_GV" in res.stderr and "wrong unit" in res.stderr
    assert not (tmp_path / "o").exists()


def test_missing_module_names_it_before_any_work(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "crknee.catalogs" else real(name, *a)
    )
    from crknee.pipeline import run

    with pytest.raises(MissingModuleError, match="step 'candidates' needs module crknee.catalogs"):
        run(cfgmod.load(), tmp_path, fast=True, quiet=True)
    assert not (tmp_path / "cache" / "background.json").exists()

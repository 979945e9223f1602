"""End to end: ``crknee reproduce --fast`` (issue 8, issue 17).

One test runs the whole scenario in order, on one output folder, because every part
reuses the cache of the first run (the suite's time budget is two minutes):

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


@pytest.mark.skipif(bool(_missing_modules()), reason=f"physics modules not installed: {', '.join(_missing_modules())}")
def test_reproduce_fast_end_to_end(tmp_path):
    out = tmp_path / "results"
    user = tmp_path / "user.toml"  # checkpoints every 0.2 s, so that the kill below finds one
    user.write_text("[fast.fit.sampler]\ncheckpoint_every_s = 0.2\n")

    # 0. kill the first run inside the nested sampling of the default fit (the SIGTERM is
    # forwarded to the worker processes, which save their checkpoints), rerun: it resumes
    proc = _reproduce(out, "--config", str(user), wait=False)
    ckpt = out / "chains" / "knee_mcmc" / "nested.ckpt"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not ckpt.is_file():
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted in the nested sampling"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode != 0 and ckpt.is_file()
    assert not (out / "summary.json").exists()
    _reproduce(out, "--config", str(user))  # its duration is measured in benchmarks, not asserted here
    statuses = _last_run_statuses(out)
    assert statuses["knee_mcmc"] == "computed" and statuses["background"] == "cached"
    assert "resuming nested sampling from chains/knee_mcmc/nested.ckpt" in (out / "crknee.log").read_text()

    # 1. figures (the paper's Figs. 1-10, PNG and PDF), summary, report
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
    for _name, g in summary["gamma"].items():  # issue 12: the default value lies in its plausible range
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
    # issue 16: every experiment's fit quality in both modes; the fitted ones (via their CRDB copies) marked
    quality = QTable.read(out / "tables" / "anisotropy_fit_quality.ecsv")
    fitted = {str(n) for n, f in zip(quality["dataset"], quality["fitted"]) if f}
    assert fitted == {"anisotropy/CRDB_KASCADE-Grande", "anisotropy/CRDB_Auger_SD750", "anisotropy/CRDB_Auger_SD1500"}
    assert summary["anisotropy"]["n_datasets"] == len(quality) > 40
    assert np.isfinite(summary["anisotropy"]["deviance_isotropic"]) and summary["anisotropy"]["dof_isotropic"] > 100
    predictive = QTable.read(out / "tables" / "knee_predictive.ecsv")
    assert np.all(predictive["d_perp_p16"] <= predictive["d_perp_p84"]) and len(predictive) == 41
    # issue 17: the evidence table (same data for every model), the paper's mode, W, the sampler
    knee = summary["knee_source"]
    evidence = QTable.read(out / "tables" / "knee_evidence.ecsv")
    assert (
        list(evidence["model"]) == list(cfgmod.load()["evidence"]["models"]) == [r["model"] for r in knee["evidence"]]
    )
    ref = evidence[list(evidence["model"]).index("c")]
    assert ref["ln_B"] == 0.0 and ref["ln_Z"] == knee["sampler"]["log_z"]  # the default fit is model c
    assert np.allclose(evidence["ln_B"], evidence["ln_Z"] - ref["ln_Z"]) and np.all(evidence["n_calls"] > 0)
    assert knee["sampler"]["method"] == "dynesty nested sampling" and knee["W_erg"][0] < knee["W_erg"][2]
    assert knee["composition"] == {"H1": [1.0, 1.0, 1.0]} or all(len(v) == 3 for v in knee["composition"].values())
    paper_mode = knee["paper_mode"]
    assert paper_mode["sampler"]["method"] and paper_mode["l_deg"][0] <= paper_mode["l_deg"][2]
    section = json.loads((out / "chains" / "mode_paper" / "fit_section.json").read_text())["section"]
    assert section["knee_propagation"] == "free"
    for fit in (knee, paper_mode):  # a posterior piled at a bound is named in the report
        for name, edge in fit["at_prior_edge"].items():
            assert f"{name} ({edge})" in report
    assert "337.4" in report or "-22.6" in report  # the paper's l beside both columns
    assert "paper mode" in report and "Jeffreys" in report

    # 2. a second run with the same config recomputes nothing
    _reproduce(out, "--config", str(user))
    statuses = _last_run_statuses(out)
    assert set(statuses) == {s.name for s in STEPS} and set(statuses.values()) == {"cached"}, statuses

    # ... and changing one parameter reruns only the steps that depend on it
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

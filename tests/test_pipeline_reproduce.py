"""End to end: ``crknee reproduce --fast`` (issue 8).

One test runs the whole scenario in order, on one output folder, because every part
reuses the cache of the first run (the suite's time budget is two minutes):

1. a --fast run: every figure is a valid PNG (and a PDF), summary.json validates against
   its schema, report.html embeds every figure;
2. a second run with the same config recomputes nothing (read from the log), and a
   changed [candidates] parameter reruns only the candidates step;
3. a changed chain length reruns the MCMC (and only what depends on it); the run is
   killed with SIGTERM inside the MCMC; the rerun resumes the HDF5 chain and completes
   with every step present, nothing lost, nothing duplicated.
"""
import json
import signal
import subprocess
import sys
import time

import h5py
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
    cmd = [sys.executable, "-c", "from crknee.cli import main; main()", "reproduce", "--out", str(out), "--fast",
           "--quiet", *extra]
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


def _chain_iterations(path):
    # no HDF5 file lock: a reader's lock would stop the running sampler from writing
    with h5py.File(path, "r", locking=False) as f:
        group = f["mcmc"]
        n = int(group.attrs["iteration"])
        return n, np.array(group["chain"][:n])


@pytest.mark.skipif(bool(_missing_modules()), reason=f"physics modules not installed: {', '.join(_missing_modules())}")
def test_reproduce_fast_end_to_end(tmp_path):
    out = tmp_path / "results"
    _reproduce(out)  # its duration is measured in benchmarks, not asserted here

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
    for name, g in summary["gamma"].items():  # issue 12: the default value lies in its plausible range
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

    # 2. a second run with the same config recomputes nothing
    _reproduce(out)
    statuses = _last_run_statuses(out)
    assert set(statuses) == {s.name for s in STEPS} and set(statuses.values()) == {"cached"}, statuses

    # ... and changing one parameter reruns only the steps that depend on it
    narrower = tmp_path / "narrower.toml"
    narrower.write_text("[candidates]\nb_max_deg = 4.0\n")
    _reproduce(out, "--config", str(narrower))
    statuses = _last_run_statuses(out)
    assert statuses.pop("candidates") == "computed" and set(statuses.values()) == {"cached"}, statuses

    # 3. kill inside the MCMC, rerun, nothing lost
    nsteps = cfgmod.load().for_run(True)["fit"]["sampler"]["nsteps"] + 1500
    user = tmp_path / "longer.toml"
    user.write_text(f"[fast.fit.sampler]\nnsteps = {nsteps}\n")
    proc = _reproduce(out, "--config", str(user), wait=False)
    chain = out / "chains" / "knee_mcmc" / "chain.h5"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        last_run = (out / "crknee.log").read_text().split("run start:")[-1]
        if "starting a new chain" in last_run and chain.is_file():
            try:
                if _chain_iterations(chain)[0] >= 20:
                    break
            except (OSError, KeyError):
                pass
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted in the MCMC"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    done_before, chain_before = _chain_iterations(chain)
    assert 0 < done_before < nsteps
    _reproduce(out, "--config", str(user))
    statuses = _last_run_statuses(out)
    assert statuses["knee_mcmc"] == "computed" and statuses["background"] == "cached"
    done_after, chain_after = _chain_iterations(chain)
    assert done_after == nsteps or json.loads((out / "summary.json").read_text())["knee_source"]["converged"]
    assert done_after > done_before
    np.testing.assert_array_equal(chain_after[:done_before], chain_before)
    assert np.all(np.isfinite(chain_after))
    assert f"resuming the chain at step {done_before}" in (out / "crknee.log").read_text()
    validate_summary(json.loads((out / "summary.json").read_text()))


def test_malformed_config_is_one_line_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[propagation]\nRbr_GV = "335 kpc"\n')
    res = subprocess.run([sys.executable, "-c", "from crknee.cli import main; main()", "reproduce", "--config", str(bad),
                          "--out", str(tmp_path / "o"), "--quiet"], capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "propagation.Rbr_GV" in res.stderr and "wrong unit" in res.stderr
    assert not (tmp_path / "o").exists()


def test_missing_module_names_it_before_any_work(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "crknee.catalogs" else real(name, *a))
    from crknee.pipeline import run

    with pytest.raises(MissingModuleError, match="step 'candidates' needs module crknee.catalogs"):
        run(cfgmod.load(), tmp_path, fast=True, quiet=True)
    assert not (tmp_path / "cache" / "background.json").exists()

"""`crknee fit knee` and `crknee plot fit` end to end on a tiny mock run; `crknee fit propagation`
end to end on a tiny config."""

import json

import pytest
from astropy.table import QTable

from crknee.cli import main
from crknee.fit.schema import EXAMPLE_TOML
from test_fit_support import synthetic_fixed


def _config(tmp_path, nsteps=30, **subs):
    text = EXAMPLE_TOML.replace("nsteps = 20000", f"nsteps = {nsteps}").replace("nwalkers = 32", "nwalkers = 16")
    # the MCMC path of `crknee fit` (the paper config, which this file is merged onto, samples with dynesty)
    text = text.replace("[fit.sampler]\n", '[fit.sampler]\nmethod = "emcee"\n')
    for old, new in subs.items():
        text = text.replace(old, new)
    path = tmp_path / "fit.toml"
    path.write_text(text)
    return path


def test_fit_mock_writes_everything_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    synthetic_fixed().save(out / "fixed_components.h5")
    cfg = _config(tmp_path)
    with pytest.warns(UserWarning, match="not converged"):
        main(["fit", "knee", "--config", str(cfg), "--mock", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert "mock anisotropy: amplitude, 4 points" in text and "KASCADE-Grande_2019: first harmonic (r1), 3 rows" in text
    summary = json.loads((out / "fit_summary.json").read_text())
    assert summary["mock"] and summary["anisotropy_active"] and summary["iterations"] == 30
    assert summary["truth"]["d_kpc"] == 2.5
    table = QTable.read(out / "posterior.ecsv")
    assert list(table["parameter"]) == list(summary["posterior"])
    for stem in ("fig06_protons", "fig07_corner", "fig08_helium", "fig09_allparticle", "fit_anisotropy"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 10_000
    # more steps on the same folder: the chain is extended, not restarted
    cfg = _config(tmp_path, nsteps=40)
    with pytest.warns(UserWarning, match="not converged"):
        main(["fit", "knee", "--config", str(cfg), "--mock", "--out", str(out), "--quiet", "--no-plots"])
    summary2 = json.loads((out / "fit_summary.json").read_text())
    assert summary2["iterations"] == 40 and summary2["log_prob_evaluations"] == 10 * 16
    main(["plot", "fit", "--run", str(out), "--out", str(tmp_path / "figs")])
    assert (tmp_path / "figs" / "fig07_corner.pdf").exists()


@pytest.mark.parametrize(
    "sub, message",
    [
        (
            {"[fit.parameters.d_kpc]\nvalue = 2.5\nmin = 0.1": "[fit.parameters.d_kpc]\nvalue = 2.5\nmin = 12.0"},
            "fit.parameters.d_kpc: min (12.0) must be < max (10.0)",
        ),
        ({"proton/LHAASO_2025_2505.14447_EPOSLHC": "proton/LHAASO_1999"}, "unknown dataset 'proton/LHAASO_1999'"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys, sub, message):
    synthetic_fixed().save(tmp_path / "fc.h5")
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "fit",
                "knee",
                "--config",
                str(_config(tmp_path, **sub)),
                "--fixed",
                str(tmp_path / "fc.h5"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_fixed_components_is_explained(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["fit", "knee", "--config", str(_config(tmp_path)), "--out", str(tmp_path / "o")])
    assert "fixed_components.h5 not found" in capsys.readouterr().err


_PROPAGATION_TINY = """
[propagation_fit]
heaviest = "C12"
check_heaviest = "O16"
n_modes = 4
points_per_decade = 6
ekn_min_GeV = 0.1
ekn_max_GeV = 3000.0
start_evaluations = 15
band_samples = 3
datasets = [{ name = "bc/AMS02_2021_PhysRep", window_GV = [5.0, 500.0] },
            { name = "nuclei/AMS02_C", window_GV = [5.0, 500.0] }]
checks = [{ name = "nuclei/AMS02_N" }]
[propagation_fit.sampler]
nwalkers = 8
nsteps = NSTEPS
check_every = 5
pool = "serial"
workers = 1
[propagation_fit.parameters]
"""
#: every parameter of the tiny config except D0 and delta is fixed at its default value
_FREE = ("D0_1e28_cm2_s", "delta")


def _propagation_config(tmp_path, nsteps, extra=""):
    from crknee.fit.propagation.parameters import PARAMETERS
    from crknee.fit.propagation.settings import load_settings

    defaults = load_settings()["parameters"]
    lines = []
    for name in PARAMETERS:
        spec = defaults[name]
        if name not in _FREE:
            spec = {"value": spec["value"], "min": spec["min"], "max": spec["max"], "prior": "fixed"}
        lines.append(f"{name} = {{ " + ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in spec.items()) + " }")
    path = tmp_path / "prop.toml"
    path.write_text(_PROPAGATION_TINY.replace("NSTEPS", str(nsteps)) + "\n".join(lines) + "\n" + extra)
    return path


def test_fit_propagation_writes_everything_resumes_and_feeds_the_config(tmp_path, capsys):
    from crknee.config import load

    out = tmp_path / "prop"
    with pytest.warns(UserWarning, match="not converged"):
        main(["fit", "propagation", "--config", str(_propagation_config(tmp_path, 10)), "--out", str(out), "--quiet"])
    assert "chi2 =" in capsys.readouterr().out
    table = QTable.read(out / "posterior.ecsv")
    assert list(table["parameter"]) == list(_FREE) and table.meta["datasets"][0]["name"] == "bc/AMS02_2021_PhysRep"
    assert "Aguilar" in table.meta["datasets"][0]["reference"]
    summary = json.loads((out / "fit_summary.json").read_text())
    assert summary["sampler"]["iterations"] == 10 and summary["n_points"] == 108
    assert set(summary["checks_chi2"]) == {"nuclei/AMS02_N"}
    bands = QTable.read(out / "bands.ecsv")
    assert set(bands["dataset"]) == {"bc/AMS02_2021_PhysRep", "nuclei/AMS02_C"}
    assert (bands["p2.5"] <= bands["p16"]).all() and (bands["p16"] <= bands["p84"]).all()
    for stem in ("corner", "fit_bands", "checks"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 10_000
    assert "chi2 = 728 for 67" in (out / "report.md").read_text()
    # the medians feed any crknee command's --config as [propagation] keys
    cfg = load(out / "propagation_posterior.toml")
    assert cfg["propagation"]["D0_cm2_s"] == pytest.approx(
        summary["posterior"]["D0_1e28_cm2_s"]["median"] * 1e28, rel=1e-5
    )
    assert cfg["propagation"]["delta"] == pytest.approx(summary["posterior"]["delta"]["median"], rel=1e-5)
    # rerun with more steps: the chain is extended, not restarted
    with pytest.warns(UserWarning, match="not converged"):
        main(
            [
                "fit",
                "propagation",
                "--config",
                str(_propagation_config(tmp_path, 14)),
                "--out",
                str(out),
                "--quiet",
                "--no-plots",
            ]
        )
    summary2 = json.loads((out / "fit_summary.json").read_text())
    assert summary2["sampler"]["iterations"] == 14 and summary2["sampler"]["n_evaluations"] == 4 * 8


def test_fit_propagation_bad_dataset_is_one_line(tmp_path, capsys):
    cfg = _propagation_config(tmp_path, 10).read_text().replace("nuclei/AMS02_C", "lnA/AMS02_C")
    (tmp_path / "bad.toml").write_text(cfg)
    with pytest.raises(SystemExit) as exc:
        main(["fit", "propagation", "--config", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "propagation_fit.datasets[1].name: dataset 'lnA/AMS02_C' is in quantity family 'lnA'" in err

"""`crknee fit` and `crknee plot fit` end to end on a tiny mock run."""
import json

import pytest
from astropy.table import QTable
from test_fit_support import synthetic_fixed

from crknee.cli import main
from crknee.fit.schema import EXAMPLE_TOML


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
        main(["fit", "--config", str(cfg), "--mock", "--out", str(out), "--quiet"])
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
        main(["fit", "--config", str(cfg), "--mock", "--out", str(out), "--quiet", "--no-plots"])
    summary2 = json.loads((out / "fit_summary.json").read_text())
    assert summary2["iterations"] == 40 and summary2["log_prob_evaluations"] == 10 * 16
    main(["plot", "fit", "--run", str(out), "--out", str(tmp_path / "figs")])
    assert (tmp_path / "figs" / "fig07_corner.pdf").exists()


@pytest.mark.parametrize("sub, message", [
    ({'[fit.parameters.d_kpc]\nvalue = 2.5\nmin = 0.1': "[fit.parameters.d_kpc]\nvalue = 2.5\nmin = 12.0"},
     "fit.parameters.d_kpc: min (12.0) must be < max (10.0)"),
    ({"proton/LHAASO_2025_2505.14447_EPOSLHC": "proton/LHAASO_1999"}, "unknown dataset 'proton/LHAASO_1999'"),
])
def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys, sub, message):
    synthetic_fixed().save(tmp_path / "fc.h5")
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--config", str(_config(tmp_path, **sub)), "--fixed", str(tmp_path / "fc.h5"),
              "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_fixed_components_is_explained(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--config", str(_config(tmp_path)), "--out", str(tmp_path / "o")])
    assert "fixed_components.h5 not found" in capsys.readouterr().err

"""`crknee gamma ...`, `crknee plot gamma` (Fig. 2) and `crknee plot protons` (Fig. 3)."""

import json

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy.table import QTable

from crknee.cli import main
from crknee.errors import InputError
from crknee.gamma import DEFAULTS
from crknee.plots.protons import plot_protons

FAST = ["--nsteps", "150", "--burn", "50"]


def test_gamma_fit_command(tmp_path, capsys):
    out = tmp_path / "fit.json"
    main(["gamma", "fit", "-s", "SS 433", "-s", "MAXI J1820+070", *FAST, "--out", str(out)])
    text = capsys.readouterr().out
    assert "SS 433 [fitted]" in text and "MAXI J1820+070 [paper parameters, not refitted]" in text
    rows = json.loads(out.read_text())
    assert rows["SS 433"]["table2"] == {"beta": 2.5, "L0_erg_s": 2e39}
    assert rows["SS 433"]["proton_ratio_1PeV"] < 1e-10
    assert rows["MAXI J1820+070"]["label"] == "paper parameters, not refitted"


def test_gamma_sed_command_and_errors(capsys):
    main(["gamma", "sed", "-s", "V4641 Sgr", "-n", "5"])
    lines = [l for l in capsys.readouterr().out.splitlines() if not l.startswith("#")]
    assert len(lines) == 5 and all(float(l.split()[1]) > 0 for l in lines)
    with pytest.raises(SystemExit) as exc:
        main(["gamma", "sed", "-s", "Nowhere X-1"])
    assert exc.value.code == 2
    assert "Nowhere X-1" in capsys.readouterr().err


def test_plot_commands(tmp_path, capsys):
    fig2 = tmp_path / "fig2.png"
    main(["plot", "gamma", "--out", str(fig2), *FAST])
    assert fig2.stat().st_size > 10_000
    E = np.geomspace(10.0, 1e8, 30)
    unit = u.m**-2 * u.s**-1 * u.sr**-1 / u.GeV
    curves = QTable({"E": E * u.GeV, "background": 1e4 * E**-2.7 * unit, "local_snr": 1e3 * E**-2.6 * unit})
    path = tmp_path / "curves.ecsv"
    curves.write(path, format="ascii.ecsv")
    fig3 = tmp_path / "fig3.pdf"
    main(["plot", "protons", "--out", str(fig3), "--curves", str(path), *FAST])
    assert fig3.stat().st_size > 5_000


def test_plot_protons_takes_curves_and_rejects_bad_ones():
    src = {"MAXI J1820+070": DEFAULTS["MAXI J1820+070"]}
    E = np.geomspace(10.0, 1e8, 20)
    fig = plot_protons(
        src, background=(E, 1e4 * E**-2.7), local_snr=(E * u.GeV, 1e3 * E**-2.6 / (u.m**2 * u.s * u.sr * u.GeV))
    )
    labels = [l.get_label() for l in fig.axes[0].get_lines()]
    plt.close(fig)
    assert {"background", "local SNR", "background + local SNR", "MAXI J1820+070"} <= set(labels)
    with pytest.raises(InputError, match="background"):
        plot_protons(src, background=(E, E[:-1]))
    with pytest.raises(InputError, match="pair"):
        plot_protons(src, local_snr=E)


def test_plot_protons_propagates_in_the_given_environment():
    """Fig. 3's microquasar curves use the background's diffusion: a config that changes
    D0 must change them (slower diffusion at fixed L0 and 1 Myr changes the flux at Earth)."""
    from crknee.transport import Diffusion

    src = {"MAXI J1820+070": DEFAULTS["MAXI J1820+070"]}

    def curve(diffusion):
        fig = plot_protons(src, datasets=(), diffusion=diffusion)
        line = next(l for l in fig.axes[0].get_lines() if l.get_label() == "MAXI J1820+070")
        y = np.asarray(line.get_ydata(), dtype=float)
        plt.close(fig)
        return y

    default, explicit, slow = curve(None), curve(Diffusion()), curve(Diffusion(D0=0.5e28))
    np.testing.assert_allclose(default, explicit, rtol=1e-12)
    ok = np.isfinite(default) & np.isfinite(slow)
    assert ok.any() and not np.allclose(default[ok], slow[ok], rtol=1e-3)


def test_plot_ratio_maps_command(tmp_path, capsys):
    out, js = tmp_path / "maps.png", tmp_path / "maps.json"
    main(
        [
            "plot",
            "ratio-maps",
            "--out",
            str(out),
            "-s",
            "MAXI J1820+070",
            "--chi-points",
            "3",
            "--n-H-points",
            "4",
            "--json",
            str(js),
        ]
    )
    text = capsys.readouterr().out
    assert "MAXI J1820+070 [paper parameters, not refitted]" in text and "plausible" in text
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    row = json.loads(js.read_text())["MAXI J1820+070"]
    lo, hi = row["range"]
    assert 0 < lo < hi and row["likelihood_ratio"] is None

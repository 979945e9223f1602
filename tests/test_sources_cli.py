"""``crknee source`` and ``crknee plot anisotropy``."""

import numpy as np
import pytest
from astropy.table import Table

from crknee.cli import main

#: The knee source of the paper (Sec. 3) on the command line.
SOURCE = [
    "source",
    "--l",
    "337.4",
    "--b",
    "0",
    "--distance",
    "2.64",
    "--age",
    "4.82",
    "--beta",
    "2.3",
    "--rcut",
    "3",
    "--energy",
    "1e50",
]


def test_source_command_writes_table(tmp_path):
    out = tmp_path / "s.ecsv"
    main(
        [
            *SOURCE,
            "--n",
            "5",
            "--out",
            str(out),
        ]
    )
    t = Table.read(out)
    assert len(t) == 5 and t["valid"].all()
    np.testing.assert_allclose(t["delta"], 3 * 2.64 / (2 * 306.601 * 4.82), rtol=1e-4)
    assert (t["amplitude_eq"] <= t["delta"]).all()


def test_source_command_flags_and_rejects(tmp_path, capsys):
    out = tmp_path / "ss.ecsv"
    main(
        [
            "source",
            "--l",
            "39.7",
            "--b",
            "-2.2",
            "--distance",
            "5.5",
            "--age",
            "0.03",
            "--beta",
            "2.5",
            "--rcut",
            "10",
            "--continuous",
            "--luminosity",
            "2e39",
            "--n",
            "3",
            "--out",
            str(out),
        ]
    )
    assert not Table.read(out)["valid"].any()
    assert "invalid" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "source",
                "--l",
                "0",
                "--b",
                "0",
                "--distance",
                "-1",
                "--age",
                "1",
                "--beta",
                "2",
                "--rcut",
                "1",
                "--energy",
                "1e50",
                "--out",
                str(out),
            ]
        )
    assert exc.value.code == 2 and "distance" in capsys.readouterr().err
    # a normalisation that the injection mode would ignore is refused, not dropped
    base = [
        "source",
        "--l",
        "0",
        "--b",
        "0",
        "--distance",
        "1",
        "--age",
        "1",
        "--beta",
        "2",
        "--rcut",
        "1",
        "--out",
        str(out),
    ]
    for extra, word in (
        (["--continuous", "--luminosity", "1e38", "--energy", "1e50"], "--energy"),
        (["--energy", "1e50", "--luminosity", "1e38"], "--luminosity"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(base + extra)
        assert exc.value.code == 2 and word in capsys.readouterr().err


def test_plot_anisotropy(tmp_path):
    main(["plot", "anisotropy", "--out", str(tmp_path)])
    for stem in ("fig04_anisotropy_phase", "fig05_anisotropy_amplitude"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 10_000


def test_source_command_with_background(tmp_path):
    out = tmp_path / "b.ecsv"
    main(
        [
            *SOURCE,
            "--n",
            "3",
            "--emax",
            "1e6",
            "--background",
            "--out",
            str(out),
        ]
    )
    t = Table.read(out)
    assert (t["proton_flux_total"] > t["proton_flux"]).all()
    np.testing.assert_allclose(t["phase_ra_total"], 266.40, atol=0.5)  # background-dominated: towards the GC


def test_plot_anisotropy_uses_the_fitted_local_snr(tmp_path, monkeypatch):
    """The plotted local SNR is the fitted one: the fit must use the plotted composition
    (W is summed over species, so a proton-only fit re-dressed with GALPROP abundances
    would under-predict the protons it was fitted to)."""
    import crknee.plots.anisotropy as pa
    import crknee.sources.local_snr as ls
    from crknee.sources.injection import galprop_composition

    fits, drawn = [], {}
    real_fit = ls.fit_local_snr
    monkeypatch.setattr(ls, "fit_local_snr", lambda *a, **k: fits.append(real_fit(*a, **k)) or fits[-1])
    monkeypatch.setattr(
        pa, "plot_anisotropy", lambda out, E, comps, **k: drawn.update(E=E, c={c.label: c for c in comps}) or []
    )
    main(["plot", "anisotropy", "--out", str(tmp_path)])
    (fit,) = fits
    assert fit.source.composition == galprop_composition()
    J_fit = fit.source.evaluate(drawn["E"])[0]
    np.testing.assert_allclose(drawn["c"]["local SNR (Geminga)"].flux, J_fit, rtol=1e-12)

"""``crknee propagate solve`` and ``crknee plot bc`` (paper Fig. 1) end to end."""
import json

import pytest

from crknee.cli import main


def test_propagate_solve_writes_table_and_summary(tmp_path, capsys):
    main(["propagate", "solve", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "B/C(10 GeV/n) = 0.20" in out
    s = json.loads((tmp_path / "summary.json").read_text())
    assert 0.19 < s["BC_10GeVn_earth"] < 0.21
    assert s["BC_points"] == 67
    from astropy.table import QTable

    t = QTable.read(tmp_path / "lis.ecsv")
    assert {"Ekn", "J_H", "J_He", "J_B", "J_C"} <= set(t.colnames)
    assert (t["J_H"] > 0).all()


def test_plot_bc_writes_figure(tmp_path, capsys):
    out = tmp_path / "fig01_bc.png"
    main(["plot", "bc", "--R0", "4", "--out", str(out)])
    assert out.stat().st_size > 10_000
    assert "B/C(10 GeV/n) = 0.31" in capsys.readouterr().out


def test_bad_parameter_is_one_line_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["propagate", "solve", "--delta", "1.5"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "delta" in err and "1.5" in err

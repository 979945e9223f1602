"""Target gas at the microquasars: the bundled 2D gas model at (l, b, d) (issue 12, step 1)."""

import numpy as np
import pytest

from crknee.config import load as load_config
from crknee.data import raw_path
from crknee.errors import InputError
from crknee.gamma import DEFAULTS, SourceParams
from crknee.gamma.target import galactocentric_rz, target_density_cm3
from crknee.propagation import gas


def _table(name):
    rows = [
        ln
        for ln in raw_path(f"ism/{name}").read_text().splitlines()
        if ln.strip() and not ln.startswith("#") and not ln[0].isalpha()
    ]
    return np.array([[float(x) for x in ln.split(",")] for ln in rows])


def test_galactocentric_geometry():
    R, z = galactocentric_rz(0.0, 0.0, 8.5)
    assert (R, z) == pytest.approx((0.0, 0.0), abs=1e-12)  # the Galactic centre
    R, z = galactocentric_rz(180.0, 0.0, 1.5)
    assert (R, z) == pytest.approx((10.0, 0.0))  # anticentre
    R, z = galactocentric_rz(90.0, 30.0, 2.0)
    assert R == pytest.approx(np.hypot(8.5, 2.0 * np.cos(np.radians(30.0))))
    assert z == pytest.approx(1.0)
    with pytest.raises(InputError, match="d_kpc"):
        galactocentric_rz(0.0, 0.0, -1.0)


@pytest.mark.parametrize("row", [18, 22, 26])
def test_molecular_gas_equals_the_CO_table_at_its_nodes(row):
    """At a node R_i and the layer's centre z = Z0_i: n_H2 = eps_CO X_CO / kpc (Bronfman 1988 table)."""
    R, eps, Z0, _ = _table("galprop_H2_v54_table.csv")[row]
    l, d = 0.0, 8.5 - R  # on the line to the Galactic centre, R = R_i
    b = np.degrees(np.arctan2(Z0, d))
    dist = np.hypot(d, Z0)
    n = target_density_cm3(l, b, dist, include_HII=False)
    Rg, zg = galactocentric_rz(l, b, dist)
    assert (Rg, zg) == pytest.approx((R, Z0), abs=1e-12)
    assert n - gas.n_HI(Rg, zg) == pytest.approx(2.0 * eps * gas.X_CO_SM96 / gas.KPC_CM, rel=1e-12)


@pytest.mark.parametrize("i", [2, 6, 10])
def test_atomic_gas_equals_the_GB76_table_at_bin_centres(i):
    """Mid-plane, R <= 8 kpc: n_HI = Y_i * fZ(0) / n_GB with the DL90 fZ(0) = 0.395 + 0.107 + 0.064."""
    t = _table("galprop_HI_GordonBurton76_table.csv")
    R = 0.5 * (t[i, 0] + t[i + 1, 0])
    assert R <= 8.0
    n = target_density_cm3(0.0, 0.0, 8.5 - R, include_HII=False)
    assert n - 2.0 * gas.n_H2(R, 0.0) == pytest.approx(t[i, 1] * (0.395 + 0.107 + 0.064) / 0.33, rel=1e-12)


def test_ionised_gas_is_added_and_helium_is_not():
    l, b, d = 6.774, -4.789, 6.2
    R, z = galactocentric_rz(l, b, d)
    full = target_density_cm3(l, b, d)
    assert full == pytest.approx(gas.n_HI(R, z) + 2 * gas.n_H2(R, z) + gas.n_HII(R, z), rel=1e-14)
    assert full - target_density_cm3(l, b, d, include_HII=False) == pytest.approx(gas.n_HII(R, z), rel=1e-12)


def test_source_defaults_take_the_gas_model_and_config_overrides():
    p = DEFAULTS["V4641 Sgr"]
    assert p.n_H_from_model
    assert p.n_H_cm3 == pytest.approx(float(target_density_cm3(p.l_deg, p.b_deg, p.d_kpc)), rel=1e-14)
    assert 0.02 < p.n_H_cm3 < 0.04  # z = -0.52 kpc, far below the HI layer (issue 12: ~0.03)
    q = SourceParams.from_dict({"name": "V4641 Sgr", "n_H_cm3": 2.0})
    assert q.n_H_cm3 == 2.0 and not q.n_H_from_model
    moved = p.replace(b_deg=0.0)  # a model density follows the position
    assert moved.n_H_from_model and moved.n_H_cm3 > 10 * p.n_H_cm3
    assert p.replace(beta=2.0).n_H_cm3 == p.n_H_cm3
    fixed = q.replace(b_deg=0.0)  # a given density does not
    assert fixed.n_H_cm3 == 2.0


def test_config_may_leave_n_H_out(tmp_path):
    cfg = load_config()
    assert "n_H_cm3" not in cfg["gamma"]["sources"]["V4641 Sgr"]
    f = tmp_path / "c.toml"
    f.write_text('[gamma.sources."V4641 Sgr"]\nn_H_cm3 = 0.5\n')
    assert load_config(f)["gamma"]["sources"]["V4641 Sgr"]["n_H_cm3"] == 0.5

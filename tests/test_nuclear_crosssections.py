"""Cross-section tables and parameterisations of crknee.propagation.crosssections."""

import numpy as np
import pytest

from crknee.errors import InputError
from crknee.propagation.crosssections import (
    COSTE12_PRODUCTION,
    CRAMS_PRODUCTION,
    INELASTIC_TABLES,
    PRODUCTION_TABLES,
    interpolate,
    read_crams_inelastic,
    read_crams_production,
    read_measured,
    read_usine,
    sigma_pp_inel_mb,
    usine_name,
)
from crknee.propagation.decays import ghost_feeding
from crknee.propagation.network import build_network


def test_crams_production_reader_reproduces_sources_md():
    grid, table = read_crams_production(CRAMS_PRODUCTION)
    # nuclear/SOURCES.md sec. 2: 0.1 GeV/n x 1.1^i, i = 0..99; 203 channels;
    # 56Fe -> 32S is 0.20277 mb at 0.1 GeV/n.
    assert grid.size == 100
    assert grid[0] == pytest.approx(0.1) and grid[-1] == pytest.approx(0.1 * 1.1**99)
    assert len(table) == 203
    assert table[("Fe56", "S32")][0] == pytest.approx(0.20277, rel=1e-6)


def test_usine_grids_and_block_counts():
    prod = read_usine(PRODUCTION_TABLES["GALPROP17_OPT12"])
    # SOURCES.md sec. 3: 0.01-10 GeV/n, 41 points, 3160 channels.
    assert prod.ekn_GeV.size == 41 and len(prod.blocks) == 3160
    assert prod.ekn_GeV[[0, -1]] == pytest.approx([0.01, 10.0])
    assert np.diff(np.log(prod.ekn_GeV)) == pytest.approx(np.full(40, np.log(1000) / 40))
    inel = read_usine(INELASTIC_TABLES["Tripathi99+Coste12"])
    # 0.05-6.294626 GeV/n, 43 points, 95 nuclei.
    assert inel.ekn_GeV.size == 43 and len(inel.blocks) == 95
    assert inel.ekn_GeV[[0, -1]] == pytest.approx([0.05, 6.294626])
    assert len(read_usine(COSTE12_PRODUCTION).blocks) == 7


def test_usine_names_are_syntactic():
    assert usine_name("12C") == "C12" and usine_name("70Zn") == "Zn70"


def test_interpolation_is_linear_in_log_energy_and_flat_outside():
    grid = np.array([1.0, 10.0, 100.0])
    table = np.array([2.0, 4.0, 8.0])
    assert interpolate(table, grid, [np.sqrt(10.0)]) == pytest.approx([3.0])
    assert interpolate(table, grid, [0.01, 1e8]) == pytest.approx([2.0, 8.0])


@pytest.mark.parametrize("bad", [[-1.0], [0.0], [np.nan], [[1.0, 2.0]]])
def test_interpolation_rejects_bad_energies(bad):
    with pytest.raises(InputError, match="ekn_GeV"):
        interpolate(np.ones(3), np.array([1.0, 2.0, 3.0]), bad)


def test_sigma_pp_kafexhiu2014():
    # Kafexhiu et al. 2014 eq. 1 reproduces the PDG inelastic pp data: ~30 mb at 10 GeV,
    # ~35 mb at 1 TeV; zero below the pion threshold 0.2797 GeV.
    s = sigma_pp_inel_mb([0.2, 10.0, 1e3])
    assert s[0] == 0.0
    assert 29.0 < s[1] < 31.0
    assert 34.0 < s[2] < 35.5
    assert np.all(np.diff(sigma_pp_inel_mb(np.logspace(0, 8, 30))) > 0)
    with pytest.raises(InputError, match="T_p_GeV"):
        sigma_pp_inel_mb(-1.0)


def test_crams_inelastic_tables_bracket_usine_tripathi():
    # Two independent tabulations (CRAMS Tripathi99 and CROSEC) of sigma_inel(C12 + p)
    # at 1 GeV/n lie within 10 % of the USINE Tripathi99 value.
    usine = read_usine(INELASTIC_TABLES["Tripathi99+Coste12"])
    ref = interpolate(usine.blocks["C12"][:, 0], usine.ekn_GeV, [1.0])[0]
    for rel in (
        "nuclear/crams/xsecs_total_Tripathi99_0.1_100_1.1.txt",
        "nuclear/crams/xsecs_total_CROSEC_0.1_100_1.1.txt",
    ):
        grid, tab = read_crams_inelastic(rel)
        assert interpolate(tab["C12"], grid, [1.0])[0] == pytest.approx(ref, rel=0.10)


def _measured_cumulative(parent, child, ref="W90"):
    """Measured direct cross sections into child and the ghosts feeding it (Webber et al.
    1990, PRC 41, 520, via XS4GCR), summed: sigma_cum, its error, energy."""
    m = read_measured()
    sel = m[(m["parent"] == parent) & (m["ref"] == ref)]
    feeds = ghost_feeding(child)
    w = np.array([1.0 if c == child else feeds.get(c, 0.0) for c in sel["child"]])
    assert np.any(w > 0), (parent, child)
    return (
        float(np.sum(w * sel["sigma_mb"])),
        float(np.sqrt(np.sum((w * sel["err_mb"]) ** 2))),
        float(sel["ekn_GeV"][0]),
    )


@pytest.mark.parametrize(
    "parent,child",
    [
        ("C12", "B11"),
        ("C12", "B10"),
        ("O16", "B11"),
        ("O16", "B10"),
        ("N14", "B11"),
        ("N14", "B10"),
        ("C12", "Be10"),
        ("C12", "Be9"),
    ],
)
def test_opt12_is_cumulative_and_matches_measured_channels(parent, child):
    # Within 15 % of the measured cumulative (direct + 11C / 10C ghost) cross section.
    # A direct-only table would be ~2x low for C12 -> B11 (32.7 mb vs 61.4 mb).
    sigma, err, ekn = _measured_cumulative(parent, child)
    net = build_network()
    h, _ = net.sigma_prod([ekn])
    model = h[net.index(parent), net.index(child), 0]
    assert model == pytest.approx(sigma, rel=0.15, abs=2 * err)

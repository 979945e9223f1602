"""crknee.population.stats, the population figures and `crknee population`."""

import json
import os

import matplotlib
import numpy as np
import pytest

from crknee.population import ensemble, stats
from crknee.population.realisation import prepare
from crknee.population.spec import spec_from_dict

REDUCED = os.environ.get("CRKNEE_REDUCED") == "1"
SMALL = {
    "composition": "protons",
    "points_per_decade": 1,
    "E_min_GeV": 1e4,
    "E_max_GeV": 1e6,
    "snr": {"rate_per_Myr": 2e3},
}


@pytest.fixture(scope="module")
def ds():
    spec = spec_from_dict({"population": SMALL})
    return ensemble.run(spec, 40, seed=1, prep=prepare(spec), dask=False, chunk=20)


def test_dominance_counts_realisations_and_returns_their_sources(ds):
    dom = stats.dominance(ds, 1e6, 0.5)
    share = ds.share_p.sel(energy=1e6).values
    assert dom.probability == pytest.approx(np.mean(share > 0.5)) and dom.n == 40
    assert dom.lo <= dom.probability <= dom.hi
    assert dom.d_kpc.size == np.sum(share > 0.5)
    assert np.all(dom.d_kpc > 0) and np.all(dom.age_Myr > 0)
    assert dom.valid.dtype == bool and dom.valid.size == dom.d_kpc.size
    # a threshold of ~0 counts every realisation with a source
    assert stats.dominance(ds, 1e6, 1e-12).probability == 1.0
    from crknee.errors import InputError

    with pytest.raises(InputError, match="not on the population grid"):
        stats.dominance(ds, 2e6)
    with pytest.raises(InputError, match="threshold"):
        stats.dominance(ds, 1e6, 1.5)


def test_summary_bands_are_ordered_and_bracket_the_data(ds):
    t = stats.summary_table(ds)
    assert len(t) == ds.sizes["energy"] and t.meta["n_realisations"] == 40
    q = np.array([t[f"flux_p_{c}"].value for c in stats.BAND_NAMES])
    assert np.all(np.diff(q, axis=0) >= 0)
    np.testing.assert_allclose(t["flux_p_median"].value, np.median(ds.flux_p.values, axis=0))
    amp3, amp_eq, ra = stats.dipole_amplitudes(ds)
    assert np.all(amp_eq <= amp3 + 1e-15) and np.all((ra >= 0) & (ra < 360))
    assert str(t["flux_p_median"].unit) == "1 / (GeV s sr m2)"


def test_figures_are_returned_without_touching_the_backend(ds, tmp_path):
    backend = matplotlib.get_backend()
    from crknee.plots import population as fig

    figs = [
        fig.flux_bands_figure(ds, 2.6),
        fig.dipole_bands_figure(ds),
        fig.share_figure(ds),
        fig.dominant_sources_figure(
            stats.dominance(ds, 1e6, 1e-12),
            ["snr", "microquasar"],
            {"d_kpc": (2.64, 0.45, 0.44), "age_Myr": (4.82, 0.09, 0.09)},
        ),
    ]
    assert matplotlib.get_backend() == backend
    for i, f in enumerate(figs):
        fig.save_figure(f, tmp_path / f"f{i}.png")
        assert (tmp_path / f"f{i}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_cli_writes_results_and_resumes(tmp_path):
    from crknee.cli import main

    cfg = tmp_path / "p.toml"
    cfg.write_text(
        "[population]\ncomposition = 'protons'\npoints_per_decade = 1\nE_min_GeV = 1e4\nE_max_GeV = 1e6\n"
        "[population.snr]\nrate_per_Myr = 2000.0\n"
    )
    n = 4 if REDUCED else 10
    args = [
        "population",
        "--n",
        str(n),
        "--workers",
        "1",
        "--out",
        str(tmp_path / "o"),
        "--config",
        str(cfg),
        "--chunk",
        "2",
        "--no-progress",
    ]
    main(args)
    out = tmp_path / "o"
    for f in (
        "realisations.nc",
        "summary.ecsv",
        "dominance.json",
        "population_flux.png",
        "population_dipole.png",
        "population_share.png",
        "population_dominant.png",
    ):
        assert (out / f).exists(), f
    import xarray as xr

    first = xr.load_dataset(out / "realisations.nc")
    assert json.loads((out / "dominance.json").read_text())["n_realisations"] == n
    main(args)  # every chunk reused from the checkpoints
    np.testing.assert_array_equal(xr.load_dataset(out / "realisations.nc").flux_p.values, first.flux_p.values)


def test_cli_bad_config_is_one_line(tmp_path, capsys):
    from crknee.cli import main

    cfg = tmp_path / "bad.toml"
    cfg.write_text("[population]\nrho_min_kpc = -1\n")
    with pytest.raises(SystemExit) as info:
        main(["population", "--n", "2", "--out", str(tmp_path / "o"), "--config", str(cfg)])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: population.rho_min_kpc") and "\n" not in err

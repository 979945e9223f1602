"""crknee.population.ensemble: seeds independent of the worker count, checkpoints that
resume a killed run and are never trusted when damaged, the xarray result."""

import os

import numpy as np
import pytest
import xarray as xr

from crknee.population import ensemble
from crknee.population.realisation import prepare
from crknee.population.spec import spec_from_dict

REDUCED = os.environ.get("CRKNEE_REDUCED") == "1"


@pytest.fixture(scope="module")
def prep():
    spec = spec_from_dict(
        {
            "population": {
                "composition": "protons",
                "points_per_decade": 1,
                "E_min_GeV": 1e5,
                "E_max_GeV": 1e6,
                "snr": {"rate_per_Myr": 2e3},
            }
        }
    )
    return prepare(spec)


def assert_same(a, b):
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_serial_run_is_a_dataset_with_the_smooth_means(prep):
    ds = ensemble.run(prep.spec, 12, seed=5, prep=prep, dask=False, chunk=5)
    assert isinstance(ds, xr.Dataset)
    assert ds.sizes == {"realisation": 12, "energy": 2, "component": 3}
    assert ds.attrs["seed"] == 5 and ds.energy.attrs["units"] == "GeV"
    assert np.all((ds.share_p > 0) & (ds.share_p <= 1))
    np.testing.assert_array_equal(ds.flux_p.values, ds.flux_all.values)  # protons-only composition
    assert np.all(ds.skip_rel_rms <= prep.spec.skip_rms_max)
    # the chunking does not change anything: realisation i always uses SeedSequence(seed, spawn_key=(i,))
    assert_same(ds, ensemble.run(prep.spec, 12, seed=5, prep=prep, dask=False, chunk=12))
    assert not np.array_equal(
        ds.flux_p.values, ensemble.run(prep.spec, 12, seed=6, prep=prep, dask=False).flux_p.values
    )


@pytest.mark.slow
def test_one_and_two_dask_workers_give_identical_results(prep):
    n = 6 if REDUCED else 16
    serial = ensemble.run(prep.spec, n, seed=11, prep=prep, dask=False, chunk=4)
    one = ensemble.run(prep.spec, n, seed=11, prep=prep, workers=1, chunk=4)
    two = ensemble.run(prep.spec, n, seed=11, prep=prep, workers=2, chunk=3)
    assert_same(serial, one)
    assert_same(one, two)


def test_killed_run_resumes_and_damaged_checkpoints_are_recomputed(prep, tmp_path):
    full = ensemble.run(prep.spec, 10, seed=2, prep=prep, dask=False, chunk=3, out=tmp_path)
    chunks = sorted((tmp_path / "chunks").glob("*.npz"))
    assert len(chunks) == 4 and len(list((tmp_path / "chunks").glob("*.json"))) == 4
    chunks[0].unlink()  # never written (the run was killed)
    data = bytearray(chunks[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # damaged on disk
    chunks[1].write_bytes(bytes(data))
    rec = chunks[2].with_suffix(".json")
    rec.write_text(rec.read_text().replace('"start": 6', '"start": 7'))  # a record of something else
    with pytest.warns(UserWarning, match="not reused") as caught:
        again = ensemble.run(prep.spec, 10, seed=2, prep=prep, dask=False, chunk=3, out=tmp_path)
    assert len([w for w in caught if "not reused" in str(w.message)]) == 3  # record without data, too
    assert_same(full, again)
    # another seed never picks up these checkpoints
    with pytest.warns(UserWarning, match="another run"):
        other = ensemble.run(prep.spec, 3, seed=3, prep=prep, dask=False, chunk=3, out=tmp_path)
    assert not np.array_equal(other.flux_p.values, full.flux_p.values[:3])


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"n": 0}, "n must"),
        ({"n": 3, "chunk": 0}, "chunk must"),
        ({"n": 3, "seed": -1}, "seed must"),
        ({"n": 3, "workers": 0}, "workers must"),
    ],
)
def test_bad_run_arguments(prep, kw, msg):
    from crknee.errors import InputError

    with pytest.raises(InputError, match=msg):
        ensemble.run(prep.spec, prep=prep, dask=False, **kw)


def test_brightest_source_validity_flag(prep):
    """A source 0.1 kpc away and 100 yr old (c t = 0.03 kpc < 10 d) is flagged outside the
    diffusive regime; a 1 Myr old one at 1 kpc is not."""
    from crknee.population.realisation import Sources, evaluate
    from crknee.sources.point import PointSource

    for age, d, ok in ((1e-4, 0.1, False), (1.0, 1.0, True)):
        src = PointSource(
            "s", 180.0, 0.0, d, age, 2.3, 1e7, energy_erg=1e52, diffusion=prep.spec.diffusion, halo_kpc=prep.spec.H_kpc
        )
        out = evaluate(prep, Sources.from_point_sources([src]))
        have = out["brightest_class"] >= 0
        assert np.all(out["brightest_valid"][have] == ok)
        np.testing.assert_allclose(out["brightest_d_kpc"][have], d)

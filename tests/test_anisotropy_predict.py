"""The one dipole API (crknee.anisotropy.predict): background + point sources + knee source."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from crknee.anisotropy import combine, equatorial, solution_dipole
from crknee.anisotropy.field import FieldAlignment
from crknee.anisotropy.predict import (
    Tabulated,
    dataset_energies_GeV,
    predict_dipole,
    row_energies_GeV,
    tabulate,
)
from crknee.errors import CrkneeError
from crknee.sources.injection import PROTONS
from crknee.sources.model import KneeModel
from crknee.sources.point import PointSource

#: 13 energies from 300 GeV to 3e8 GeV (beyond the test background's 1e7 GeV/n top) and
#: one where no component has any flux left (total zero: NaN dipole).
E = np.concatenate([np.geomspace(3e2, 3e8, 13), [3.2e11]])
#: Knee-source rows (l, b, d, t, Rcut [GV], beta, W [erg]): the paper's position and two others.
ROWS = np.array(
    [
        [337.4, 0.0, 2.64, 4.82, 5e6, 2.2, 1e50],
        [120.0, 3.0, 1.5, 2.0, 2e6, 2.5, 3e49],
        [200.0, -4.0, 4.0, 5.5, 1e7, 2.0, 5e50],
    ]
)


@pytest.fixture(scope="module")
def solution():
    """A light background: network up to C12, coarse grid (the physics of the adapter is
    tested in test_anisotropy_background.py)."""
    from crknee.propagation import PropagationModel, solve
    from crknee.propagation.network import build_network

    return solve(
        PropagationModel(points_per_decade=6, n_modes=12, ekn_max=1e7 * u.GeV), network=build_network(heaviest="C12")
    )


@pytest.fixture(scope="module")
def snr():
    return PointSource("local SNR", 195.134, 4.266, 0.25, 0.342, 2.1, 2e4, energy_erg=1e49, composition=PROTONS)


@pytest.fixture(scope="module")
def knee():
    return KneeModel(E[:1], E, ())


def by_hand(solution, snr, knee, row, project=None):
    """The total with crknee.anisotropy.combine, one parameter row at a time."""
    J_bg, d_bg = solution_dipole(solution, E)
    J_s, d_s, _ = snr.evaluate(E, "all")
    res = knee(*row)
    J, d = combine([J_bg, J_s, res.flux_all[0]], [d_bg, d_s, res.dipole[0]])
    return J, (d if project is None else project(d))


def assert_same_phase(a, b, atol):
    diff = (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0
    ok = np.isfinite(diff)
    assert np.array_equal(ok, np.isfinite(a)) and np.array_equal(ok, np.isfinite(b))
    assert np.all(np.abs(diff[ok]) < atol)


@pytest.mark.parametrize("field", [None, FieldAlignment(34.68, 56.61, 0.1)])
def test_equals_the_sum_by_hand_with_combine(solution, snr, knee, field):
    pred = predict_dipole(E * u.GeV, [solution, snr, knee], ROWS, field=field)
    assert pred.vector.shape == (3, E.size, 3) and pred.d_perp.shape == pred.phase_deg.shape == (3, E.size)
    for i, row in enumerate(ROWS):
        J, d = by_hand(solution, snr, knee, row, None if field is None else field.project)
        np.testing.assert_allclose(pred.flux_all[i], J, rtol=1e-12, atol=0)
        np.testing.assert_allclose(pred.vector[i], d, rtol=1e-12, atol=1e-17)
        amp, ra = equatorial(d)
        np.testing.assert_allclose(pred.d_perp[i], amp, rtol=1e-12, atol=1e-17)
        assert_same_phase(pred.phase_deg[i], ra, 1e-9)
    # the last energy has no flux from any component: no direction
    assert np.all(pred.flux_all[:, -1] == 0) and np.all(np.isnan(pred.vector[:, -1]))
    assert np.all(np.isnan(pred.d_perp[:, -1])) and np.all(np.isnan(pred.phase_deg[:, -1]))
    finite = pred.phase_deg[:, :-1]
    assert np.all((finite >= 0) & (finite < 360))


def test_vectorised_rows_equal_row_by_row(solution, snr, knee):
    rng = np.random.default_rng(7)
    rows = np.column_stack(
        [
            rng.uniform(0, 360, 300),
            rng.uniform(-5, 5, 300),
            rng.uniform(1, 5, 300),
            rng.uniform(3, 6, 300),
            10 ** rng.uniform(5, 7, 300),
            rng.uniform(2.0, 2.6, 300),
            10 ** rng.uniform(49, 51, 300),
        ]
    )  # 300 rows: more than one block
    fixed = tabulate(E, [solution, snr])
    pred = predict_dipole(E, [fixed, knee], rows)
    for i in (0, 1, 150, 299):
        one = predict_dipole(E, [fixed, knee], rows[i])
        for name in ("vector", "flux_all", "d_perp", "phase_deg", "valid"):
            np.testing.assert_allclose(getattr(pred, name)[i], getattr(one, name)[0], rtol=1e-13, atol=0)
    # a mapping of parameter names gives the same rows
    names = ("l_deg", "b_deg", "d_kpc", "t_Myr", "Rcut_GV", "beta", "E_erg")
    by_name = predict_dipole(E, [fixed, knee], dict(zip(names, rows.T)))
    np.testing.assert_array_equal(by_name.vector, pred.vector)
    # and a knee source evaluated beforehand (a fit that also needs its spectra)
    evaluated = predict_dipole(E, [fixed, knee(*rows.T)])
    np.testing.assert_array_equal(evaluated.vector, pred.vector)
    np.testing.assert_array_equal(evaluated.valid, pred.valid)


def test_tabulated_fixed_part_and_field_commute_with_the_sum(solution, snr, knee):
    field = FieldAlignment(100.0, 20.0, 0.01)
    direct = predict_dipole(E, [solution, snr, knee], ROWS, field=field)
    fixed = tabulate(E * u.GeV, [solution, snr])
    assert np.all(fixed.valid == snr.evaluate(E, "all")[2])
    tab = predict_dipole(E, [fixed, knee], ROWS, field=field)
    np.testing.assert_allclose(tab.vector, direct.vector, rtol=1e-12, atol=1e-17)
    iso = predict_dipole(E, [fixed, knee], ROWS)
    np.testing.assert_allclose(field.project(iso.vector), direct.vector, rtol=1e-12, atol=1e-17)
    # isotropic diffusion is the field-free prediction
    ones = predict_dipole(E, [fixed, knee], ROWS, field=FieldAlignment(100.0, 20.0, 1.0))
    np.testing.assert_allclose(ones.vector, iso.vector, rtol=1e-13, atol=1e-18)


def test_fixed_components_alone_match_total_dipole(solution, snr):
    from crknee.sources.total import total_dipole

    pred = predict_dipole(E * u.GeV, [solution, snr])
    J, d, valid = total_dipole(E * u.GeV, [snr], solution)
    assert pred.vector.shape == (1, E.size, 3)
    np.testing.assert_allclose(pred.flux_all[0], J.value, rtol=1e-12)
    np.testing.assert_allclose(pred.vector[0], d, rtol=1e-12, atol=1e-17)
    np.testing.assert_array_equal(pred.valid[0], valid)


def test_finite_halo_knee_source(solution, snr):
    Eh = E[:6]
    knee = KneeModel(Eh[:1], Eh, (), halo_kpc=4.5)
    rows = ROWS[:2]
    pred = predict_dipole(Eh, [solution, snr, knee], rows)
    for i, row in enumerate(rows):
        J_bg, d_bg = solution_dipole(solution, Eh)
        J_s, d_s, _ = snr.evaluate(Eh, "all")
        res = knee(*row)
        J, d = combine([J_bg, J_s, res.flux_all[0]], [d_bg, d_s, res.dipole[0]])
        np.testing.assert_allclose(pred.vector[i], d, rtol=1e-12, atol=1e-17)


def _table(x, lo, hi, meta):
    return QTable(
        {"x": np.asarray(x) * u.GeV, "x_lo": np.asarray(lo) * u.GeV, "x_hi": np.asarray(hi) * u.GeV}, meta=meta
    )


def test_per_dataset_in_each_convention(solution, snr, knee):
    pytest.importorskip("crknee.anisotropy.conventions")
    nan = np.nan
    # a point row, a bin row (geometric centre) and an open bin (threshold)
    t = _table([E[2], nan, nan], [nan, E[3] / 2, E[9]], [nan, E[3] * 2, nan], {"convention": "d_perp"})
    np.testing.assert_allclose(row_energies_GeV(t), [E[2], E[3], E[9]], rtol=1e-15)
    t3 = _table([E[4], E[1]], [nan, nan], [nan, nan], {"convention": "d_3d"})
    datasets = {"a": t, "b": t3}
    np.testing.assert_allclose(dataset_energies_GeV(datasets), np.sort(E[[1, 2, 3, 4, 9]]), rtol=1e-15)
    pred = predict_dipole(E[::-1], [solution, snr, KneeModel(E[:1], E[::-1], ())], ROWS, datasets=datasets)
    back = predict_dipole(E, [solution, snr, knee], ROWS)  # the same energies, reversed above
    np.testing.assert_allclose(pred.d_perp[:, ::-1], back.d_perp, rtol=1e-12)
    amp, phase = pred.per_dataset("a")
    assert amp.shape == phase.shape == (3, 3)
    np.testing.assert_allclose(amp, back.d_perp[:, [2, 3, 9]], rtol=1e-12)
    assert_same_phase(phase, back.phase_deg[:, [2, 3, 9]], 1e-9)
    amp3, _ = pred.per_dataset("b")
    np.testing.assert_allclose(amp3, np.linalg.norm(back.vector[:, [4, 1]], axis=-1), rtol=1e-12)
    assert pred.datasets == ["a", "b"]
    with pytest.raises(CrkneeError, match="unknown dataset"):
        pred.per_dataset("c")
    off = _table([1.234e4], [nan], [nan], {"convention": "d_perp"})
    with pytest.raises(CrkneeError, match="'off' row 0"):
        predict_dipole(E, [solution, snr, knee], ROWS, datasets={"off": off}).per_dataset("off")


def test_energies_as_quantity_or_gev_floats(snr, knee):
    a = predict_dipole(E * u.GeV, [snr, knee], ROWS)
    b = predict_dipole((E * u.GeV).to(u.TeV), [snr, knee], ROWS)
    np.testing.assert_array_equal(a.vector, b.vector)


def test_bad_input_gets_one_line_errors(solution, snr, knee):
    for args, kwargs, match in (
        ((E, [snr, knee]), {}, "needs params"),
        ((E, [snr]), {"params": ROWS}, "no parametrised component"),
        ((E, [snr, knee], ROWS[:, :6]), {}, r"shape \(n, 7\)"),
        ((E, [snr, knee], {"l_deg": 1.0}), {}, "lack 'b_deg'"),
        ((E[:5], [snr, knee], ROWS), {}, "E_aniso_GeV = E"),
        ((-E, [snr]), {}, "finite and > 0"),
        ((E * u.kpc, [snr]), {}, "energy"),
        ((E, []), {}, "at least one component"),
        ((E, [snr]), {"field": 0.1}, "FieldAlignment"),
        ((E, [snr, "background"]), {}, "unknown dipole component"),
        ((E, [Tabulated(np.ones(3), np.zeros((3, 3)))]), {}, "on the prediction energies"),
        ((E[:5], [snr, knee(*ROWS.T)]), {}, "does not match"),
        ((E, [knee(*ROWS.T), knee]), {"params": ROWS[:2]}, "same number of parameter sets"),
    ):
        with pytest.raises(CrkneeError, match=match) as exc:
            predict_dipole(*args, **kwargs)
        assert "\n" not in str(exc.value)


def test_knee_flux_floor_is_exact_above_and_zero_below():
    """KneeModel clamps exponents below e^-700 (exp's slow path) and returns 0 below
    FLUX_FLOOR: every representable flux above it still matches PointSource."""
    from crknee.sources.model import FLUX_FLOOR

    Ec = np.geomspace(1e5, 1e10, 51)
    row = (337.4, 0.0, 2.64, 4.82, 3e6, 2.2, 1e50)  # exp(-R/Rcut) spans 1 .. e^-3300
    J = KneeModel(Ec[:1], Ec, (), composition=PROTONS)(*row).flux_all[0]
    ref = PointSource("k", *row[:4], row[5], row[4], energy_erg=row[6], composition=PROTONS).evaluate(Ec)[0]
    above = ref > FLUX_FLOOR
    assert above.any() and (~above).any() and ref[above].min() < 1e-150
    np.testing.assert_allclose(J[above], ref[above], rtol=1e-6)
    assert np.all(J[~above] == 0.0)


def test_every_bundled_dataset_gets_its_published_quantity(snr):
    """The bundled compilation end to end: energies of every row, one prediction, each
    dataset's convention (d_perp, r1, r1_dec0, d_3d) applied to its own rows."""
    from crknee.data import load, names

    datasets = {name: load(name) for name in names("anisotropy")}
    assert sum(len(t) for t in datasets.values()) > 150
    E_rows = dataset_energies_GeV(datasets)
    knee = KneeModel(E_rows[:1], E_rows, (), composition=PROTONS)
    pred = predict_dipole(E_rows * u.GeV, [snr, knee], ROWS, field=FieldAlignment(ratio=0.1), datasets=datasets)
    for name, table in datasets.items():
        amp, phase = pred.per_dataset(name)
        assert amp.shape == phase.shape == (len(ROWS), len(table))
        idx = np.searchsorted(E_rows, row_energies_GeV(table))
        has_flux = pred.flux_all[:, idx] > 0
        assert np.all(np.isfinite(amp[has_flux]) & (amp[has_flux] >= 0))
        # no published quantity exceeds the 3d dipole; d_perp-like ones equal the prediction's d_perp
        assert np.all(amp[has_flux] <= np.linalg.norm(pred.vector[:, idx], axis=-1)[has_flux] * (1 + 1e-12))
        if table.meta["convention"] in ("d_perp", "r1_dec0"):
            np.testing.assert_allclose(amp, pred.d_perp[:, idx], rtol=1e-12)

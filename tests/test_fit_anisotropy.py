"""The anisotropy in the knee-source fit (issue #16): measured first harmonics in each
experiment's convention, the paper's split normals on d_perp, field alignment, mock skies,
fit quality per dataset, and the user path (shared files added with `crknee data add`)."""

import copy
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from crknee import data
from crknee.anisotropy import equatorial, unit_vector
from crknee.anisotropy.conventions import Convention, mean_cos_dec
from crknee.anisotropy.field import FieldAlignment
from crknee.errors import ConfigError
from crknee.fit import harmonic
from crknee.fit.driver import load_section
from crknee.fit.likelihood import LIMIT_ONLY, VECTOR, HarmonicPiece, Piece, deviance
from crknee.fit.mock import mock_pieces
from crknee.fit.model import KneeSourceModel
from crknee.fit.quality import degrees_of_freedom, quality_table
from crknee.fit.schema import EXAMPLE_TOML, pieces_from_dataset, problem_from_config
from test_fit_support import synthetic_fixed

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "anisotropy"
KG = "anisotropy/KASCADE-Grande_2019"
#: the paper's best fit (Sec. 3) with a spectrum that makes the knee source visible
V = np.array([[-22.6, 0.0, 2.64, 4.82, 5.0, 2.2, 50.5]])


def _kg_piece(**spec):
    (piece,) = pieces_from_dataset({"name": KG, "window_GeV": [1e6, 2e9], **spec}, 0)
    return piece


def test_harmonic_piece_is_the_sum_of_the_harmonic_terms():
    piece = _kg_piece()
    conv = Convention.from_meta(data.load(KG).meta, KG)
    assert piece.convention == conv and conv.factor == pytest.approx(mean_cos_dec(49.1, 60.0))
    vec = 3e-3 * unit_vector([[300.0, 310.0, 320.0], [10.0, 20.0, 30.0]], 0.0)  # (2 walkers, 3 rows, 3)
    got = piece.log_like(piece.observe(vec))
    a, ph = conv.amplitude(vec), conv.phase(vec)
    want = harmonic.log_like_vector(piece.y, piece.phase, piece.sigma, a, ph).sum(axis=-1)
    assert got == pytest.approx(want, rel=1e-12) and got.shape == (2,)
    # sigma of each row: the mean of the published amplitude errors (crknee.fit.harmonic.sigma_of_row)
    assert piece.sigma == pytest.approx([0.001, 0.0016, 0.009])


def test_harmonic_vector_deviance_is_the_squared_distance():
    piece = _kg_piece()
    obs = np.stack([piece.y, piece.phase], axis=-1)[None]
    assert deviance(piece, obs) == pytest.approx([0.0], abs=1e-12)
    model = obs.copy()
    model[0, :, 0] += piece.sigma  # each row one sigma further out along its own phase
    assert deviance(piece, model) == pytest.approx([3.0], rel=1e-9)
    model = obs.copy()
    model[0, 0, 1] += 180.0  # row 0 mirrored: distance 2 a
    assert deviance(piece, model) == pytest.approx([(2 * piece.y[0] / piece.sigma[0]) ** 2], rel=1e-9)
    assert degrees_of_freedom(piece) == 6


def test_limit_only_and_amplitude_only_rows():
    conv = Convention("d_perp")
    piece = HarmonicPiece(
        "t",
        conv,
        [1e7, 2e7, 3e7],
        [np.nan] * 3,
        [np.nan] * 3,
        [np.nan, 0.004, 0.006],
        [np.nan, 0.001, 0.002],
        [np.nan, 0.001, 0.002],
        [np.nan, np.nan, 90.0],
        [np.nan, np.nan, 20.0],
        [0.01, np.nan, np.nan],
        ul_cl=0.99,
    )
    assert list(piece.kind) == [LIMIT_ONLY, 1, VECTOR] and list(piece.upper_limit) == [True, False, False]
    a = np.array([[0.0, 0.004, 0.006]])
    ph = np.array([[0.0, 0.0, 90.0]])
    got = piece.log_like(np.stack([a, ph], axis=-1))
    want = (
        harmonic.log_like_upper_limit(0.01, 0.99, 0.0)
        + harmonic.log_like_rice(0.004, 0.001, 0.004)
        + harmonic.log_like_vector(0.006, 90.0, 0.002, 0.006, 90.0)
    )
    assert got == pytest.approx(np.ravel(want))
    # a model far above the limit is strongly disfavoured
    far = np.stack([[[0.05, 0.004, 0.006]], ph], axis=-1)
    assert piece.log_like(far)[0] < got[0] - 20
    with pytest.raises(ConfigError, match="neither an amplitude nor an upper limit"):
        HarmonicPiece(
            "bad", conv, [1e7], [np.nan], [np.nan], [np.nan], [np.nan], [np.nan], [np.nan], [np.nan], [np.nan]
        )


def test_paper_mode_pieces_and_the_published_convention_differ_by_the_factor():
    model = KneeSourceModel(synthetic_fixed())
    harm = _kg_piece()
    amp, _ = pieces_from_dataset(
        {"name": KG, "window_GeV": [1e6, 2e9], "likelihood": "gaussian", "convention": "d_perp"}, 0
    )
    vec_h, vec_a = model.bind([harm, amp])(V)
    d_perp = amp.observe(vec_a)[0]
    assert d_perp == pytest.approx(equatorial(vec_a)[0][0])
    r1 = harm.observe(vec_h)[0, :, 0]
    # r1 = d_perp <cos dec> / (1 + d_z <sin dec>) for a pure dipole: within 1 % of the first-order factor here
    assert r1 == pytest.approx(d_perp * harm.convention.factor, rel=1e-2)


def test_field_alignment_acts_on_the_fitted_dipole():
    fixed = synthetic_fixed()
    piece = _kg_piece()
    free = KneeSourceModel(fixed).bind([piece])(V)[0]
    field = FieldAlignment(l_deg=90.0, b_deg=0.0, ratio=0.1)
    aligned = KneeSourceModel(fixed, field=field).bind([piece])(V)[0]
    assert aligned == pytest.approx(field.project(free), rel=1e-12, abs=1e-15)
    ev = KneeSourceModel(fixed, field=field).evaluate(V, np.array([3e6]))
    assert ev["dipole"][0, 0] == pytest.approx(
        field.project(KneeSourceModel(fixed).evaluate(V, np.array([3e6]))["dipole"][0, 0])
    )


def test_mock_harmonics_scatter_like_a_rayleigh_analysis():
    model = KneeSourceModel(synthetic_fixed())
    piece = _kg_piece()
    truth = piece.observe(model.bind([piece])(V)[0])[0]
    draws = np.array([mock_pieces(model, V[0], [piece], seed)[0].y for seed in range(400)])
    phases = np.array([mock_pieces(model, V[0], [piece], seed)[0].phase for seed in range(400)])
    vx = draws * np.cos(np.radians(phases)) - truth[:, 0] * np.cos(np.radians(truth[:, 1]))
    # each component scatters with the row's sigma (within 4 standard errors of a variance, 400 draws)
    assert np.std(vx, axis=0) == pytest.approx(piece.sigma, rel=4 * np.sqrt(2 / 400))
    assert np.mean(vx, axis=0) == pytest.approx(np.zeros(3), abs=4 * piece.sigma.max() / 20)
    noiseless = mock_pieces(model, V[0], [piece], 0, noise=False)[0]
    assert noiseless.y == pytest.approx(truth[:, 0]) and noiseless.phase == pytest.approx(truth[:, 1] % 360)


def test_quality_table_counts_chi2_of_gaussian_rows():
    model = KneeSourceModel(synthetic_fixed())
    amp = Piece("a", "amplitude", [3e6, 1e7], [1e-3, 2e-3], [5e-4, 5e-4], [5e-4, 5e-4], [False, False])
    pred = amp.observe(model.bind([amp])(V)[0])
    table = quality_table({"iso": model}, [amp, _kg_piece()], V)
    assert table["deviance_iso"][0] == pytest.approx(np.sum(((pred[0] - amp.y) / 5e-4) ** 2), rel=1e-9)
    assert list(table["dof"]) == [2, 6] and list(table["n_rows"]) == [2, 3]
    assert list(table["dof_iso"]) == [2, 6] and list(table["undefined_iso"]) == [0, 0]


def test_fit_section_json_rebuilds_the_problem(tmp_path):
    section = tomllib.loads(EXAMPLE_TOML)["fit"]
    (tmp_path / "fit_section.json").write_text(json.dumps({"section": section, "mock": False}))
    again = load_section(tmp_path / "fit_section.json")
    assert again == section
    problem = problem_from_config(again, synthetic_fixed())
    assert [p.name for p in problem.pieces][:2] == ["proton/LHAASO_2025_2505.14447_EPOSLHC", KG]
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a fit_section.json"):
        load_section(tmp_path / "bad.json")


def test_the_paper_config_fits_kascade_grande_and_auger_in_the_window():
    problem = problem_from_config(load_section(), synthetic_fixed())
    harm = {p.name: p for p in problem.pieces if p.observable == "harmonic"}
    assert sorted(harm) == ["anisotropy/Auger_SD1500_2020", "anisotropy/Auger_SD750_2020", KG]
    # the paper's window 1 PeV - 2 EeV: 3 KASCADE-Grande, 3 SD750 and the 0.43/0.70/1.28 EeV SD1500 bins
    assert {n: p.n_points for n, p in harm.items()} == {
        KG: 3,
        "anisotropy/Auger_SD750_2020": 3,
        "anisotropy/Auger_SD1500_2020": 3,
    }
    assert all(p.fit for p in harm.values()) and not problem.inactive


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data beside the checkout")
def test_user_path_gives_the_bundled_likelihood(user_folder):
    """Issue #16 item 7: the shared files added with `crknee data add` give exactly the
    pieces of the bundled datasets (so the user-path fit result is the bundled one)."""
    from crknee.cli import main

    main(
        [
            "data",
            "add",
            str(SHARED / "KASCADE-Grande_CRDB.csv"),
            "--quantity",
            "anisotropy",
            "--convention",
            "r1",
            "--site-latitude",
            "49.1",
            "--zenith-max",
            "60",
            "--upper-limit-cl",
            "0.99",
        ]
    )
    for mode in ({}, {"likelihood": "gaussian", "convention": "d_perp"}):
        user = pieces_from_dataset({"name": "anisotropy/KASCADE-Grande_CRDB", "window_GeV": [1e6, 2e9], **mode}, 0)
        bundled = pieces_from_dataset({"name": KG, "window_GeV": [1e6, 2e9], **mode}, 0)
        assert len(user) == len(bundled) > 0
        for u_, b_ in zip(user, bundled):
            for attr in ("kind", "latitude_deg", "zenith_max_deg"):
                assert getattr(u_.convention, attr) == getattr(b_.convention, attr)
            for col in ("E_GeV", "y", "err_lo", "err_hi"):
                assert np.array_equal(getattr(u_, col), getattr(b_, col), equal_nan=True)
    section = copy.deepcopy(load_section())
    section["datasets"][1]["name"] = "anisotropy/KASCADE-Grande_CRDB"
    problem = problem_from_config(section, synthetic_fixed())
    assert "anisotropy/KASCADE-Grande_CRDB" in {p.name for p in problem.pieces}


def test_the_knee_source_diffuses_in_the_background_halo_by_default(tmp_path):
    section = tomllib.loads(EXAMPLE_TOML)["fit"]
    fixed = synthetic_fixed()
    halo = problem_from_config(section, fixed).model
    free = problem_from_config({**section, "knee_propagation": "free"}, fixed).model
    assert halo.halo_kpc == fixed.halo_kpc == 4.5 and free.halo_kpc is None
    E = np.array([1e4, 1e6, 1e7])
    young = V.copy()
    young[0, 3] = 0.02  # 20 kyr: sigma = sqrt(4 D t) << H at 10 TeV, the halo is not felt there
    J_h, J_f = (m.evaluate(young, E)["source:all"][0] for m in (halo, free))
    assert J_h[0] == pytest.approx(J_f[0], rel=1e-6)
    # at the paper's 4.8 Myr the particles of 1-10 PeV have spread over > 2 H: the halo loses most of them
    J_h, J_f = (m.evaluate(V, E)["source:all"][0] for m in (halo, free))
    assert np.all(J_h[1:] < 0.5 * J_f[1:]) and np.all(J_h > 0)
    with pytest.raises(ConfigError, match="fit.knee_propagation"):
        problem_from_config({**section, "knee_propagation": "slab"}, fixed)
    wide = copy.deepcopy(section)
    wide["parameters"]["b_deg"].update(min=-60.0, max=60.0)
    with pytest.raises(ConfigError, match="outside the halo"):
        problem_from_config(wide, fixed)
    fixed.save(tmp_path / "fixed.h5")
    assert type(fixed).load(tmp_path / "fixed.h5").halo_kpc == 4.5
    from crknee.fit.model import FixedComponents

    bare = FixedComponents(fixed.E_GeV, fixed.flux, fixed.dipole)
    with pytest.raises(ConfigError, match="halo height"):
        problem_from_config(section, bare)


def test_quality_table_leaves_out_rows_without_a_prediction():
    model = KneeSourceModel(synthetic_fixed())
    amp = Piece("a", "amplitude", [3e6, 1e7], [1e-3, 2e-3], [5e-4, 5e-4], [5e-4, 5e-4], [False, False])
    corner = V.copy()
    corner[0, 2], corner[0, 3] = 9.0, 0.02  # c t = 6 kpc < d: no diffusive prediction at all
    table = quality_table({"iso": model}, [amp, _kg_piece()], corner)
    assert list(table["undefined_iso"]) == [2, 3] and list(table["dof_iso"]) == [0, 0]
    assert np.all(np.isnan(table["deviance_iso"]))


def test_circular_quantiles_do_not_tear_a_band_at_ra_zero():
    from crknee.fit.predictive import circular_quantiles

    rng = np.random.default_rng(3)
    phases = np.mod(rng.normal(0.0, 10.0, 20000), 360.0)  # around RA = 0: half the draws near 360
    p2, p16, p50, p84, p97 = circular_quantiles(phases)
    assert min(p50, 360 - p50) < 0.5
    assert (p84 - p16) % 360 == pytest.approx(20.0, rel=0.05)  # the 68 % band is 2 sigma wide, not 340 deg
    assert p16 == pytest.approx(350.0, abs=0.6) and p84 == pytest.approx(10.0, abs=0.6)


def test_posterior_predictive_of_one_point_is_the_model():
    from crknee.fit.parameters import ParameterSet
    from crknee.fit.predictive import posterior_predictive
    from test_fit_support import parameters

    model = KneeSourceModel(synthetic_fixed())
    ps = parameters()
    assert isinstance(ps, ParameterSet)
    free = ps.truth()[None]
    E = np.geomspace(1e5, 1e8, 7)
    table = posterior_predictive(model, ps, np.repeat(free, 5, axis=0), E, n_draws=5)
    ev = model.evaluate(ps.full(free), E)
    for suffix in ("p2.5", "p50", "p97.5"):
        assert table[f"d_perp_{suffix}"].value == pytest.approx(ev["amplitude"][0])
        assert table[f"J_H_{suffix}"].value == pytest.approx(ev["total:H"][0])
        assert table[f"phase_deg_{suffix}"].value == pytest.approx(ev["phase"][0] % 360.0)
    assert table.meta["n_draws"] == 5 and table["E"].unit == "GeV"

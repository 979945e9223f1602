"""KneeModel: continuous injection, composition groups (Peters cycle) and the compiled halo
kernel against the reference Green's functions (PointSource / crknee.sources.greens)."""

import astropy.units as u
import numpy as np
import pytest
from scipy.special import erfc

from crknee.constants import S_PER_MYR
from crknee.errors import InputError
from crknee.kinematics import nuclide
from crknee.sources import greens, slab_kernel
from crknee.sources.injection import PETERS_GROUPS, galprop_composition, peters_groups
from crknee.sources.model import KneeModel
from crknee.sources.point import PointSource

H = 4.5
COMP = galprop_composition()
EF = np.geomspace(1e3, 1e8, 6)
EA = np.geomspace(1e2, 3e11, 10)
# (l, b, d, t, Rcut [GV], beta, E [erg], duration [Myr]): still active (duration = t),
# stopped long ago, a short microquasar-like episode, a young source
ROWS = np.array(
    [
        [337.4, 0.0, 2.64, 4.82, 3e6, 2.3, 1e50, 4.82],
        [120.0, -20.0, 3.0, 2.0, 5e6, 2.6, 3e49, 0.5],
        [200.0, 40.0, 4.0, 5.5, 1e7, 2.1, 1e49, 0.01],
        [10.0, 5.0, 1.2, 0.3, 2e6, 2.4, 1e50, 0.1],
    ]
)


def _relative_dipole_error(got, ref):
    return np.max(np.abs(got - ref) / np.linalg.norm(ref, axis=-1)[:, None])


@pytest.mark.filterwarnings("ignore::crknee.sources.point.ValidityWarning")
@pytest.mark.parametrize("halo", [None, H])
def test_continuous_matches_point_source(halo):
    """Free space: closed form; halo: Gauss-Legendre in emission age of the exact burst, vs
    PointSource(mode="continuous", active_Myr) (greens.slab_continuous: erfc image sums or
    its own quadrature): flux and dipole to 1e-9 (measured: 2e-13 and 3e-12)."""
    m = KneeModel(EF, EA, ("H1", "all"), composition=COMP, halo_kpc=halo, injection="continuous")
    res = m(*ROWS.T)
    assert res.direction is None
    for w, (l, b, d, t, rc, beta, W, dur) in enumerate(ROWS):
        s = PointSource(
            "mq",
            l,
            b,
            d,
            t,
            beta,
            rc,
            luminosity_erg_s=W / (dur * S_PER_MYR),
            mode="continuous",
            composition=COMP,
            halo_kpc=halo,
            active_Myr=None if dur >= t else dur,
        )
        J = s.lis("all", EA * u.GeV).value
        ok = J > 1e-280
        assert ok.sum() >= 4
        np.testing.assert_allclose(res.flux_all[w][ok], J[ok], rtol=1e-9)
        np.testing.assert_array_equal(res.flux_all[w][~ok], 0.0)
        Jp = s.lis("H1", EF * u.GeV).value
        okp = Jp > 1e-280
        np.testing.assert_allclose(res.flux["H1"][w][okp], Jp[okp], rtol=1e-9)
        assert _relative_dipole_error(res.dipole[w][ok], s.dipole("all", EA[ok] * u.GeV).value) < 1e-9


@pytest.mark.parametrize("halo", [None, H])
def test_continuous_tends_to_the_burst_for_short_duration(halo):
    """duration -> 0 at fixed total energy is the burst of age t; the difference falls
    linearly with the duration (emission at mean age t - duration / 2)."""
    row = ROWS[0, :7]
    burst = KneeModel(EF, EA, ("H1",), composition=COMP, halo_kpc=halo)(*row)
    cont = KneeModel(EF, EA, ("H1",), composition=COMP, halo_kpc=halo, injection="continuous")
    ok = burst.flux_all[0] > 1e-250
    errors = []
    for frac in (1e-3, 1e-5):
        res = cont(*row, duration_Myr=frac * row[3])
        errors.append(np.max(np.abs(res.flux_all[0][ok] / burst.flux_all[0][ok] - 1)))
        np.testing.assert_allclose(res.flux["H1"], burst.flux["H1"], rtol=50 * frac)
        np.testing.assert_allclose(res.dipole[0][ok], burst.dipole[0][ok], rtol=50 * frac, atol=1e-14)
    assert errors[1] < 50 * 1e-5 and errors[0] / errors[1] == pytest.approx(100, rel=0.05)


def test_injection_arguments_are_checked():
    burst = KneeModel(EF, EA, ("H1",), composition=COMP)
    cont = KneeModel(EF, EA, ("H1",), composition=COMP, injection="continuous")
    row = ROWS[0, :7]
    with pytest.raises(InputError, match="duration_Myr"):
        burst(*row, duration_Myr=0.1)
    with pytest.raises(InputError, match="duration_Myr"):
        cont(*row)
    with pytest.raises(InputError, match="duration"):
        cont(*row, duration_Myr=2 * row[3])
    with pytest.raises(InputError, match="injection"):
        KneeModel(EF, EA, injection="steady")


def test_peters_groups_of_the_default_composition():
    groups = peters_groups(COMP)
    assert tuple(groups) == tuple(PETERS_GROUPS)
    assert groups["CNO"] == ("C12", "N14", "O16") and groups["NeSi"] == ("Ne20", "Mg24", "Si28", "S32")
    assert groups["Fe"] == ("Fe56",)
    assert KneeModel(EF, EA, composition=COMP).group_names == ("H", "He", "C", "N", "O", "Ne", "Mg", "Si", "S", "Fe")
    with pytest.raises(InputError, match="exactly once"):
        KneeModel(EF, EA, composition=COMP, groups={"light": ("H1", "He4")})
    with pytest.raises(InputError, match="peters"):
        KneeModel(EF, EA, composition=COMP, groups="mass")


@pytest.mark.parametrize("halo", [None, H])
def test_group_weights_scale_their_group_exactly(halo):
    names = ("H", "He", "C", "N", "O", "Ne", "Mg", "Si", "S", "Fe")
    m = KneeModel(EF, EA, names + ("all",), composition=COMP, halo_kpc=halo, groups="peters")
    rows = ROWS[:2, :7].T
    ref = m(*rows)
    ones = m(*rows, weights=np.ones(5))
    for name in names + ("all",):
        np.testing.assert_allclose(ones.flux[name], ref.flux[name], rtol=1e-14, atol=0)
    np.testing.assert_allclose(ones.flux_all, ref.flux_all, rtol=1e-14, atol=0)
    w = np.array([[1.0, 3.0, 1.0, 0.0, 1.0], [0.5, 1.0, 2.0, 1.0, 7.0]])
    got = m(*rows, weights=w)
    group_of = {"H": 0, "He": 1, "C": 2, "N": 2, "O": 2, "Ne": 3, "Mg": 3, "Si": 3, "S": 3, "Fe": 4}
    for name, g in group_of.items():
        np.testing.assert_allclose(got.flux[name], w[:, g, None] * ref.flux[name], rtol=1e-13, atol=0)
    total = sum(w[:, group_of[n], None] * ref.flux[n] for n in names)
    np.testing.assert_allclose(got.flux["all"], total, rtol=1e-12)
    one_hot = sum(w[:, g, None] * m(*rows, weights=np.eye(5)[g]).flux_all for g in range(5))
    np.testing.assert_allclose(got.flux_all, one_hot, rtol=1e-12)
    zero = m(*rows, weights=np.array([1.0, 0.0, 1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(zero.flux["He"], 0.0)
    # free space: 3 d / (2 c t) for every species; halo: the vertical part depends on D, so
    # on the composition
    assert np.allclose(got.dipole, ref.dipole, rtol=1e-6, equal_nan=True) == (halo is None)
    with pytest.raises(InputError, match="shape"):
        m(*rows, weights=np.ones(4))
    with pytest.raises(InputError, match=">= 0"):
        m(*rows, weights=-np.ones(5))


def test_injected_energy_is_additive_over_groups():
    m = KneeModel(EF, EA, composition=COMP, groups="peters")
    E, beta, rc = np.array([1e50, 3e49]), np.array([2.2, 2.6]), np.array([3e6, 1e5])
    np.testing.assert_allclose(m.injected_energy_erg(E, beta, rc, np.ones(5)), E, rtol=1e-7)
    parts = sum(m.injected_energy_erg(E, beta, rc, np.eye(5)[g]) for g in range(5))
    np.testing.assert_allclose(parts, E, rtol=1e-7)
    protons = m.injected_energy_erg(E, beta, rc, np.eye(5)[0])
    assert np.all((protons > 0.3 * E) & (protons < E))


@pytest.mark.parametrize("halo", [None, H])
def test_peters_cycle_every_species_cuts_off_at_the_same_rigidity(halo):
    """Flux of each nuclide at the energy where its rigidity equals R_cut, relative to the
    same source with R_cut -> 1e11 GV (a pure power law at that rigidity, the same energy
    injected), is e^-1 times the ratio of the energy integrals, for every species."""
    from crknee.sources.injection import energy_integral_fast

    rc, rc_inf, beta = 2e6, 1e11, 2.4
    species = ("H1", "He4", "C12", "O16", "Ne20", "Si28", "Fe56")
    E = np.array([np.hypot(nuclide(s).Z * rc, nuclide(s).mass_GeV) for s in species])
    m = KneeModel(E, E[:1], species, composition=COMP, halo_kpc=halo, groups="peters")
    w = np.array([1.0, 0.7, 2.0, 1.3, 0.4])
    cut = m(337.4, 0.0, 2.64, 4.82, rc, beta, 1e50, weights=w)
    power = m(337.4, 0.0, 2.64, 4.82, rc_inf, beta, 1e50, weights=w)
    norm = energy_integral_fast(beta, rc_inf, COMP) / energy_integral_fast(beta, rc, COMP)
    for j, s in enumerate(species):
        ratio = cut.flux[s][0, j] / power.flux[s][0, j]
        assert ratio == pytest.approx(np.exp(-1.0 + rc / rc_inf) * norm, rel=1e-12), s


@pytest.mark.filterwarnings("ignore::crknee.sources.point.ValidityWarning")
def test_halo_kernel_matches_greens_across_its_regimes():
    """The compiled kernel (fixed-length image and mode sums, slab_kernel) against
    PointSource (greens.slab_burst with its own term counts, tol 1e-12) on energies
    spanning tau = D t / H^2 = 1e-4..90 (images, all modes, two modes, one mode), for
    sources in the plane, off it and 0.96 H above it (the image rule near the wall)."""
    E = np.geomspace(60.0, 1e11, 60)
    rows = np.array(
        [
            [30.0, 0.0, 2.0, 4.0, 1e9, 2.2, 1e50],
            [250.0, -30.0, 3.0, 1.0, 1e9, 2.5, 1e50],
            [90.0, 80.0, 4.39, 3.0, 1e9, 2.3, 1e50],
            [300.0, 6.0, 0.5, 0.05, 1e9, 2.3, 1e50],
        ]
    )
    m = KneeModel(E, E, ("He",), composition=COMP, halo_kpc=H)
    res = m(*rows.T)
    tau = m._aniso.D * rows[:, 3, None, None] / H**2
    kappa = np.pi**2 * tau / 4
    assert tau.min() < 1e-2 and ((tau > slab_kernel.TAU_SWITCH) & (kappa < slab_kernel.KAPPA_FEW)).any()
    assert ((kappa > slab_kernel.KAPPA_FEW) & (kappa < slab_kernel.KAPPA_ONE)).any() and kappa.max() > 100
    for w, (l, b, d, t, rc, beta, W) in enumerate(rows):
        s = PointSource("x", l, b, d, t, beta, rc, energy_erg=W, composition=COMP, halo_kpc=H)
        J = s.lis("all", E * u.GeV).value
        ok = J > 1e-250
        np.testing.assert_allclose(res.flux_all[w][ok], J[ok], rtol=1e-10)
        np.testing.assert_allclose(res.flux["He"][w][ok], s.lis("He", E[ok] * u.GeV).value, rtol=1e-10)
        dip = s.dipole("all", E[ok] * u.GeV).value
        # the dipole's vertical tolerance unit: tol x 3 H / (2 c t) (greens block comment)
        from crknee.constants import C_KPC_MYR

        np.testing.assert_allclose(res.dipole[w][ok], dip, rtol=1e-9, atol=1e-10 * 3 * H / (2 * C_KPC_MYR * t))


def test_fast_exp_is_exact_to_round_off():
    x = np.concatenate([np.linspace(-700.0, 709.0, 200_001), -np.geomspace(1e-12, 700, 1000)])
    np.testing.assert_allclose(slab_kernel.fast_exp(x), np.exp(x), rtol=4e-16, atol=0)


def test_survival_probability_decreases_monotonically():
    """Particle number of a burst in the slab: 1 at t -> 0, strictly decreasing, the first
    eigenmode 4/pi cos(pi z/2H) exp(-pi^2 D t / 4 H^2) at late times, for sources in and
    off the mid-plane."""
    D = 2.0
    t = np.geomspace(1e-3, 1e2, 300) * H**2 / D
    for zs in (0.0, 0.5 * H, 0.9 * H):
        P = np.array([greens.survival_probability(x, D, H, zs) for x in t])
        # non-increasing to round-off of the mode sum, strictly once the loss is resolved
        assert np.all(np.diff(P) <= 1e-14) and np.all(P > 0)
        lost = P < 1.0 - 1e-8
        assert lost.sum() > 200 and np.all(np.diff(P[lost]) < 0)
        # early: each wall absorbs like a half-space, erfc(distance / sqrt(4 D t))
        a = np.sqrt(4 * D * t[0])
        assert P[0] == pytest.approx(1.0 - erfc((H - zs) / a) - erfc((H + zs) / a), rel=1e-12)
        late = 4 / np.pi * np.cos(np.pi * zs / (2 * H)) * np.exp(-(np.pi**2) * D * t[-1] / (4 * H**2))
        assert P[-1] == pytest.approx(late, rel=1e-10)


@pytest.mark.parametrize("halo,injection", [(None, "burst"), (H, "burst"), (None, "continuous"), (H, "continuous")])
def test_spectra_from_the_anisotropy_pass_equal_their_own_grid(halo, injection):
    """With E_flux = E_aniso the spectra come out of the all-particle pass (one evaluation
    per species and energy): the same as on a grid of their own."""
    names = ("H1", "He", "all", "O")
    kw = {"composition": COMP, "halo_kpc": halo, "injection": injection, "groups": "peters"}
    fused = KneeModel(EF, EF, names, **kw)
    alone = KneeModel(EF, EA, names, **kw)
    assert fused._fused and not alone._fused
    extra = {"duration_Myr": ROWS[:, 7]} if injection == "continuous" else {}
    w = np.linspace(0.5, 2.0, 5)
    a, b = fused(*ROWS[:, :7].T, weights=w, **extra), alone(*ROWS[:, :7].T, weights=w, **extra)
    for name in names:
        np.testing.assert_allclose(a.flux[name], b.flux[name], rtol=1e-13, atol=0)
    np.testing.assert_allclose(a.flux["all"], a.flux_all, rtol=1e-13, atol=0)


@pytest.mark.filterwarnings("ignore::crknee.sources.point.ValidityWarning")
def test_halo_kernel_with_a_diffusion_coefficient_not_monotonic_in_energy():
    """D = D0 beta^eta (R/R0)^delta with eta = -2 (the spec's lower bound) falls with energy for slow nuclei: the
    kernel then takes each species' energies in increasing D and writes back through the
    permutation; still PointSource to 1e-10."""
    from crknee.transport import Diffusion

    diffusion = Diffusion(eta=-2.0)
    E = np.geomspace(55.0, 1e6, 30)
    m = KneeModel(E, E, ("Fe", "all"), composition=COMP, halo_kpc=H, diffusion=diffusion)
    assert not np.array_equal(m._aniso._by_D[-1], np.tile(np.arange(E.size), (len(COMP.species), 1)))
    row = (30.0, -4.0, 1.5, 0.5, 1e7, 2.3, 1e50)
    res = m(*row)
    s = PointSource("x", *row[:4], row[5], row[4], energy_erg=row[6], composition=COMP, halo_kpc=H, diffusion=diffusion)
    J = s.lis("all", E * u.GeV).value
    ok = J > 1e-250
    np.testing.assert_allclose(res.flux_all[0][ok], J[ok], rtol=1e-10)
    np.testing.assert_allclose(res.flux["Fe"][0][ok], s.lis("Fe", E[ok] * u.GeV).value, rtol=1e-10)
    np.testing.assert_allclose(res.flux["all"][0], res.flux_all[0], rtol=1e-13)
    assert _relative_dipole_error(res.dipole[0][ok], s.dipole("all", E[ok] * u.GeV).value) < 1e-9

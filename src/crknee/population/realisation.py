"""One realisation of a source population: draw the sources, sum them at the Sun.

:func:`prepare` computes once per spec what every realisation shares (the energy grid,
the exact means of the skipped sources, the window sizes); :func:`draw` draws the
sources of the discrete windows (Poisson numbers of births in the union of the windows;
positions from eq. 3 and the vertical profile; per-source energy,
luminosity, lifetime, beta and Rcut from their distributions); :func:`evaluate` sums them
with :func:`crknee.population.kernel.accumulate` and adds the smooth remainder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.constants import GEV_PER_ERG, S_PER_MYR
from crknee.population import geometry
from crknee.population.continuum import Continuum, continuum
from crknee.population.kernel import accumulate, mode_factors
from crknee.sources.injection import energy_integral_fast
from crknee.sources.point import validity

#: Per-source fields of :class:`Sources`.
SOURCE_FIELDS = ("x", "y", "z", "age", "tau", "lnq", "beta", "inv_rcut", "is_cont", "cls")


@dataclass(frozen=True)
class Prepared:
    """What every realisation of ``spec`` shares."""

    spec: object
    continuum: Continuum
    annuli: tuple  # ((rho_lo, rho_hi, T), ...): the union of the windows
    expected: dict  # class name -> expected numbers of sources per annulus


def prepare(spec, check: bool = True) -> Prepared:
    """Means and window sizes of ``spec`` (ConfigError if the skip criterion fails)."""
    cont = continuum(spec, check=check)
    g = cont.grid
    radii = np.unique(g.rho)
    annuli = tuple(
        (float(lo), float(hi), float(g.T[g.rho >= hi].max()))
        for lo, hi in zip(np.concatenate([[0.0], radii[:-1]]), radii)
    )
    expected = {
        cls.name: tuple(
            cls.rate_per_Myr * T * geometry.annulus_fraction(cls.radial, spec.r_sun_kpc, spec.R_gal_kpc, lo, hi)
            for lo, hi, T in annuli
        )
        for cls in spec.classes
    }
    return Prepared(spec, cont, annuli, expected)


@dataclass(frozen=True)
class Sources:
    """Sources of one realisation, arrays (N,) sorted by age (see :data:`SOURCE_FIELDS`):
    offsets x, y, z [kpc] from the Sun, age [Myr], lifetime tau [Myr] (0 for bursts),
    ln q0, beta, 1/Rcut [1/GV], is_cont, class index into spec.classes."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    age: np.ndarray
    tau: np.ndarray
    lnq: np.ndarray
    beta: np.ndarray
    inv_rcut: np.ndarray
    is_cont: np.ndarray
    cls: np.ndarray

    def __len__(self):
        return self.x.size

    @classmethod
    def from_point_sources(cls, points, lifetimes_Myr=None) -> Sources:
        """Sources from :class:`crknee.sources.point.PointSource` objects (their positions,
        ages, spectra and exact q0); a continuous source injects for ``lifetimes_Myr[i]``
        from its birth (default: still active, as PointSource assumes)."""
        from crknee.anisotropy import unit_vector

        pos = np.array([p.d_kpc * unit_vector(p.l_deg, p.b_deg) for p in points]).reshape(-1, 3)
        cont = np.array([p.mode == "continuous" for p in points], dtype=bool)
        age = np.array([p.age_Myr for p in points], dtype=float)
        tau = np.where(cont, age if lifetimes_Myr is None else np.asarray(lifetimes_Myr, dtype=float), 0.0)
        f = {
            k: np.asarray(v)
            for k, v in dict(
                x=pos[:, 0],
                y=pos[:, 1],
                z=pos[:, 2],
                age=age,
                tau=tau,
                lnq=np.log([p.q0 for p in points]),
                beta=[p.beta for p in points],
                inv_rcut=[1.0 / p.Rcut_GV for p in points],
                is_cont=cont,
                cls=np.zeros(len(points), dtype=np.int64),
            ).items()
        }
        order = np.argsort(f["age"], kind="stable")
        return cls(**{k: v[order].astype(float) if k not in ("is_cont", "cls") else v[order] for k, v in f.items()})


def draw_class(spec, ci, rng, n, rho_lo, rho_hi, age_lo, age_hi):
    """``n`` sources of class ``spec.classes[ci]`` in the annulus [rho_lo, rho_hi) [kpc],
    born uniformly in [age_lo, age_hi) Myr ago (fields of :class:`Sources`, unsorted)."""
    cls = spec.classes[ci]
    x, y, z = geometry.sample_positions(
        rng, n, cls.radial, cls.z_s_kpc, spec.r_sun_kpc, spec.R_gal_kpc, spec.H_kpc, rho_lo, rho_hi
    )
    age = rng.uniform(age_lo, age_hi, n)
    beta = cls.beta.sample(rng, n)
    rcut = cls.Rcut_GV.sample(rng, n)
    if cls.mode == "burst":
        amp, tau = cls.energy_erg.sample(rng, n), np.zeros(n)
    else:
        amp, tau = cls.luminosity_erg_s.sample(rng, n) * S_PER_MYR, cls.lifetime_Myr.sample(rng, n)
    lnq = np.log(amp * GEV_PER_ERG / energy_integral_fast(beta, rcut, spec.composition)) if n else np.zeros(0)
    return dict(
        x=x,
        y=y,
        z=z,
        age=age,
        tau=tau,
        lnq=lnq,
        beta=beta,
        inv_rcut=1.0 / rcut,
        is_cont=np.full(n, cls.mode == "continuous"),
        cls=np.full(n, ci, dtype=np.int64),
    )


def draw(prep: Prepared, rng: np.random.Generator) -> Sources:
    """The window's sources of one realisation (Poisson numbers per class and annulus of
    the union of the windows; fixed order of draws)."""
    spec = prep.spec
    parts = []
    for ci, cls in enumerate(spec.classes):
        for (lo, hi, T), mean in zip(prep.annuli, prep.expected[cls.name]):
            parts.append(draw_class(spec, ci, rng, int(rng.poisson(mean)), lo, hi, 0.0, T))
    fields = {k: np.concatenate([p[k] for p in parts]) for k in SOURCE_FIELDS}
    order = np.argsort(fields["age"], kind="stable")
    return Sources(**{k: v[order] for k, v in fields.items()})


@dataclass(frozen=True)
class Sums:
    """Raw kernel output: J (S, K), dip (S, K, 3), brightest proton/all-species source
    flux and index per energy."""

    J: np.ndarray
    dip: np.ndarray
    jmax_p: np.ndarray
    imax_p: np.ndarray
    jmax_all: np.ndarray
    imax_all: np.ndarray


def sum_sources(grid, H_kpc, sources: Sources) -> Sums:
    """Kernel sum of ``sources`` (sorted by age) over the (species, energy) grid, each
    (species, energy) taking the sources of its window (age < grid.T, rho < grid.rho)."""
    T = grid.T
    S, K = grid.D.shape
    counts = np.searchsorted(sources.age, T, side="left").astype(np.int64)
    cosm, sinm = mode_factors(sources.z, H_kpc)
    out = Sums(
        np.zeros((S, K)),
        np.zeros((S, K, 3)),
        np.zeros(K),
        np.full(K, -1, dtype=np.int64),
        np.zeros(K),
        np.full(K, -1, dtype=np.int64),
    )
    accumulate(
        sources.age,
        sources.x,
        sources.y,
        sources.z,
        sources.tau,
        sources.lnq,
        sources.beta,
        sources.inv_rcut,
        sources.is_cont,
        cosm,
        sinm,
        counts,
        grid.rho**2,
        grid.D,
        np.log(grid.R),
        grid.R,
        grid.lnpref,
        float(H_kpc),
        grid.protons.astype(np.int64),
        out.J,
        out.dip,
        out.jmax_p,
        out.imax_p,
        out.jmax_all,
        out.imax_all,
        np.zeros(max(len(sources), 1)),
    )
    return out


#: Per-energy outputs of :func:`evaluate` (arrays (K,) unless noted).
OUTPUTS = (
    "flux_p",
    "flux_he",
    "flux_all",
    "dipole",
    "share_p",
    "share_all",
    "brightest_d_kpc",
    "brightest_age_Myr",
    "brightest_l_deg",
    "brightest_class",
    "brightest_valid",
)


def evaluate(prep: Prepared, sources: Sources) -> dict:
    """Per-energy results of one realisation (LIS, per unit total energy per particle,
    m^-2 s^-1 sr^-1 GeV^-1): proton, helium and all-particle fluxes, the all-particle dipole
    vector (K, 3) (Galactic Cartesian, crknee.anisotropy.combine semantics), the share of
    the brightest single source in the proton and all-particle fluxes, and the distance,
    age, longitude and class index of the brightest proton source (-1/NaN if none) and
    whether it is in the diffusive regime (crknee.sources.point.validity: c t >= 10 d and
    3 D / c <= d; the diffusive kernel is used for every source regardless)."""
    cont = prep.continuum
    grid = cont.grid
    s = sum_sources(grid, prep.spec.H_kpc, sources)
    J = s.J + cont.skipped_flux
    num = s.dip + cont.skipped_dipole_num
    flux_p, flux_he, flux_all = J[grid.protons].sum(0), J[grid.helium].sum(0), J.sum(0)
    have = s.imax_p >= 0
    idx = np.where(have, s.imax_p, 0)
    if len(sources):
        d = np.sqrt(sources.x[idx] ** 2 + sources.y[idx] ** 2 + sources.z[idx] ** 2)
        age, l_deg = sources.age[idx], np.degrees(np.arctan2(sources.y[idx], sources.x[idx])) % 360.0
        cls = sources.cls[idx]
    else:
        d = age = l_deg = np.zeros(idx.size)
        cls = np.zeros(idx.size, dtype=np.int64)
    return {
        "flux_p": flux_p,
        "flux_he": flux_he,
        "flux_all": flux_all,
        "dipole": num.sum(0) / flux_all[:, None],
        "share_p": s.jmax_p / flux_p,
        "share_all": s.jmax_all / flux_all,
        "brightest_d_kpc": np.where(have, d, np.nan),
        "brightest_age_Myr": np.where(have, age, np.nan),
        "brightest_l_deg": np.where(have, l_deg, np.nan),
        "brightest_class": np.where(have, cls, -1),
        "brightest_valid": have & validity(grid.D[np.argmax(grid.protons)], d, age),
    }


def realise(prep: Prepared, seed) -> dict:
    """Draw and evaluate one realisation from ``seed`` (a numpy SeedSequence or int)."""
    rng = np.random.default_rng(seed)
    return evaluate(prep, draw(prep, rng))

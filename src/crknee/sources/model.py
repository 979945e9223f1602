"""Vectorised knee-source model for the samplers (paper Sec. 3, beyond it: halo, continuous
injection, composition groups).

One call evaluates a batch of parameter sets (walkers, live points) at once: the flux at
the Sun of the species asked for on one energy grid and, on a second grid, the source's
all-particle flux and its own dipole vectors (to be combined with the background by
:func:`crknee.anisotropy.combine`).  The physics is that of
:class:`crknee.sources.point.PointSource` (paper eq. 5-6): in free space and burst mode

    J_i(E) = q0 f_i w_g(i) (R/R0)^-beta exp(-R/Rcut) (4 pi D t)^-3/2 exp(-d^2 / (4 D t))
             * FLUX_PER_DENSITY * v/c * dR/dE,          delta = 3 d / (2 c t) * u_source

(w_g the per-set weight of species i's group, a Peters cycle: one R_cut for all),
evaluated as a single exponential of a sum of precomputed per-energy terms (one BLAS
matrix product per block of parameter sets, :class:`_Grid`); q0 comes from the tabulated
energy integral (:func:`crknee.sources.injection.energy_integral_fast`, 1e-7 accurate).
Fluxes below :data:`FLUX_FLOOR` are returned as 0.

``halo_kpc=H``: the same source in the background's halo (free escape at |z| = H): the
compiled kernel :func:`crknee.sources.slab_kernel.accumulate_rows` (images or slab
eigenmodes per point, exact to greens.TOLERANCE).  ``injection="continuous"``: constant
rate over ``duration_Myr`` after switch-on t ago (closed form in free space, quadrature
in emission age of the exact burst in the halo).  Tests: PointSource to 1e-9..1e-10
(tests/test_sources_knee_model.py, test_sources_halo.py); speeds in docs/sources.md
(benchmarks/bench_sources.py, bench_anisotropy.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from crknee.anisotropy import unit_vector
from crknee.constants import C_KPC_MYR, GEV_PER_ERG
from crknee.errors import InputError
from crknee.kinematics import nuclide
from crknee.sources import greens, slab_kernel
from crknee.sources.injection import (
    R0_GV,
    Composition,
    check_spectrum,
    energy_integral_fast,
    galprop_composition,
    group_composition,
    resolve_groups,
)
from crknee.sources.point import FLUX_PER_DENSITY, VALIDITY_FACTOR, rigidity_and_speed
from crknee.transport import Diffusion
from crknee.units import value_in


@dataclass(frozen=True)
class KneeResult:
    """Output of :class:`KneeModel` for W walkers.

    ``flux``: name -> (W, N_flux) flux at the Sun [m^-2 s^-1 sr^-1 GeV^-1] (LIS, per
    total energy per particle); ``flux_all``: (W, N_aniso) all-particle flux on the
    anisotropy grid; ``dipole``: (W, N_aniso, 3) own dipole of the source (Galactic
    Cartesian); ``valid``: (W, N_aniso) diffusive-regime mask (see point.validity);
    ``direction``: (W, 3) the own dipole where it does not depend on energy (free space:
    3 d / (2 c t) towards the source; ``dipole`` is then a read-only broadcast of it),
    None otherwise (finite halo).
    """

    flux: dict
    flux_all: np.ndarray
    dipole: np.ndarray
    valid: np.ndarray
    direction: np.ndarray | None = None


#: Fluxes [m^-2 s^-1 sr^-1 GeV^-1] below FLUX_FLOOR count as exactly zero.  The exponent
#: of each species is clamped at LN_CLAMP (e^-700 = 1e-304) before the exponential,
#: because exp() of arguments below -708 (subnormal or zero results) takes a slow path
#: (~40x slower); a total below FLUX_FLOOR, which the clamped terms can reach, is set to
#: 0.  Any flux a measurement can see is > 1e-30 in these units.
LN_CLAMP = -700.0
FLUX_FLOOR = 1e-290
#: Parameter sets per block of :meth:`_Grid.flux`: the block's exponent array
#: (CHUNK x species x energies) stays in the core's cache (~1 MB for 10 species x 184
#: energies), so each element is written and read back from cache, not main memory.
CHUNK = 64


class _Grid:
    """Per-(species, energy) constants of the exponent, shape (S, N).

    The free-space exponent of one parameter set is linear in five per-set numbers,

        ln J_s(E) = 1 * c_s(E) + (ln q0 - 1.5 ln t) - beta ln R_s - R_s / Rcut - (d^2 / t) / (4 D_s)

    so a block of W sets is one matrix product (W, 5) x (5, S N) (BLAS), one in-place
    exponential and a sum over species: per (set, species, energy) only the exponential
    (totals below :data:`FLUX_FLOOR` are 0).
    """

    def __init__(self, E_GeV, species, composition, diffusion):
        E = np.asarray(E_GeV, dtype=float)
        rows = []
        for sp in species:
            nuc = nuclide(sp)
            R, v, dRdE = rigidity_and_speed(E, nuc)
            D = diffusion.kpc2_Myr(R, v)
            log_pref = np.log(FLUX_PER_DENSITY * v * dRdE * composition.fraction(sp))
            rows.append((np.log(R / R0_GV), R, 0.25 / D, log_pref - 1.5 * np.log(4.0 * np.pi * D), log_pref, D))
        shape = (len(rows), E.size)
        self.lnR, self.R, self.quarter_invD, self.const, self.log_pref, self.D = (
            np.array(x).reshape(shape) for x in zip(*rows)
        )
        self.species = tuple(species)
        self.lnD4pi = np.log(4.0 * np.pi * self.D)
        self.D_max = self.D.max(axis=0) if rows else np.full(E.shape, -np.inf)
        # rows of the exponent's coefficient matrix, in the order of _Grid.flux's columns
        self._coef = np.stack(
            [
                self.const.ravel(),
                np.ones(self.const.size),
                -self.lnR.ravel(),
                -self.R.ravel(),
                -self.quarter_invD.ravel(),
            ]
        )

    def flux(self, ln_q0, beta, inv_Rcut, t, d, w=None, member=None):
        """(W, N) summed over species and (W, G, N) over the species groups of ``member``
        (S, G) 0/1 (or None); parameters of shape (W,), ``w`` (W, S) per-species weights or
        None."""
        S, N = self.const.shape
        W = ln_q0.shape[0]
        out = np.zeros((W, N))
        parts = None if member is None else np.zeros((W, member.shape[1], N))
        if S == 0 or N == 0:
            return out, parts
        cols = np.empty((W, 5))
        cols[:, 0] = 1.0
        cols[:, 1] = ln_q0 - 1.5 * np.log(t)
        cols[:, 2] = beta
        cols[:, 3] = inv_Rcut
        cols[:, 4] = d * d / t
        buf = np.empty((min(W, CHUNK), S * N))
        for a in range(0, W, CHUNK):
            b = min(a + CHUNK, W)
            arg = buf[: b - a]
            np.matmul(cols[a:b], self._coef, out=arg)
            np.maximum(arg, LN_CLAMP, out=arg)
            np.exp(arg, out=arg)
            if w is not None:
                arg.reshape(b - a, S, N)[...] *= w[a:b, :, None]
            np.sum(arg.reshape(b - a, S, N), axis=1, out=out[a:b])
            if member is not None:
                np.einsum("wsn,sg->wgn", arg.reshape(b - a, S, N), member, out=parts[a:b])
        out[out < FLUX_FLOOR] = 0.0
        if parts is not None:
            parts[parts < FLUX_FLOOR] = 0.0
        return out, parts

    @cached_property
    def _by_D(self):
        """The per-(species, energy) rows with each species' energies in increasing D (the
        halo kernel's order) and the permutation back: (lnpref, lnR, R, D, 1/D, lnD4pi, perm)."""
        perm = np.argsort(self.D, axis=1, kind="stable")
        return tuple(
            np.ascontiguousarray(np.take_along_axis(a, perm, axis=1))
            for a in (self.log_pref, self.lnR, self.R, self.D, 1.0 / self.D, self.lnD4pi)
        ) + (perm,)

    def halo(self, rows, sets, H, gradient=True, member=None):
        """Finite halo: ((W, N) flux summed over species, (W, N) vertical dipole numerator
        sum_s J_s 3 D_s / c d ln G_s / dz or None, (W, N) sum over rows of J / t_row or
        None for bursts, (W, G, N) flux of the species groups of ``member`` (S, G) or None)
        by :func:`crknee.sources.slab_kernel.accumulate_rows`.

        ``rows``: (set index, emission age [Myr], ln q0 of the row, several rows per set?);
        ``sets``: dict of per-set arrays rho2, zs, lnw (W, S), beta, inv_rc, cosf, sinf."""
        row_set, row_t, row_lnq, multi = rows
        S, N = self.D.shape
        W = sets["rho2"].size
        flux = np.zeros((W, N))
        vert = np.zeros((W, N))
        horiz = np.zeros((W, N)) if multi else np.zeros((1, 1))
        m = np.zeros((S, 0), dtype=np.int64) if member is None else member.astype(np.int64)
        parts = np.zeros((W, m.shape[1], N))
        if S and N and row_set.size:
            slab_kernel.accumulate_rows(
                row_set,
                row_t,
                row_lnq,
                multi,
                sets["rho2"],
                sets["zs"],
                sets["lnw"],
                sets["beta"],
                sets["inv_rc"],
                sets["cosf"],
                sets["sinf"],
                *self._by_D,
                float(H),
                gradient,
                flux,
                vert,
                horiz,
                m,
                parts,
            )
        flux[flux < FLUX_FLOOR] = 0.0
        parts[parts < FLUX_FLOOR] = 0.0
        return flux, (vert if gradient else None), (horiz if multi else None), (None if member is None else parts)

    def continuous_free(self, d, t, t0, ln_rate, beta, inv_Rcut, lnw, member=None):
        """Free-space continuous source (closed form): ((W, N) flux, (W, N) radial dipole
        numerator, towards the source, (W, G, N) flux of the groups of ``member`` or None)."""
        S, N = self.D.shape
        flux = np.zeros((d.size, N))
        radial = np.zeros((d.size, N))
        m = np.zeros((S, 0), dtype=np.int64) if member is None else member.astype(np.int64)
        parts = np.zeros((d.size, m.shape[1], N))
        if S and N:
            slab_kernel.continuous_free(
                d, t, t0, ln_rate, lnw, beta, inv_Rcut, self.log_pref, self.lnR, self.R, self.D, flux, radial, m, parts
            )
        flux[flux < FLUX_FLOOR] = 0.0
        parts[parts < FLUX_FLOOR] = 0.0
        return flux, radial, (None if member is None else parts)


#: Injection modes of :class:`KneeModel`.
INJECTIONS = ("burst", "continuous")


#: The documented units of :meth:`KneeModel.__call__`'s arguments (name -> unit).
_CALL_UNITS = {
    "l_deg": "deg",
    "b_deg": "deg",
    "d_kpc": "kpc",
    "t_Myr": "Myr",
    "Rcut_GV": "GV",
    "beta": "",
    "E_erg": "erg",
    "duration_Myr": "Myr",
}


class KneeModel:
    """Batch evaluator of the knee source: a point source, burst or continuous injection.

    ``E_flux_GeV``: total energies per particle [GeV] of the spectra; ``species``: names
    whose flux is returned on that grid ("H1", an element such as "He", or "all");
    ``E_aniso_GeV``: energies of the all-particle flux and dipole (each grid is evaluated
    on its distinct energies only).  ``halo_kpc``: None for free space (eq. 6, the
    paper's mode) or the half-height H [kpc] of the background's halo (free escape at
    |z| = H; images or eigenmodes per point, exact to :data:`crknee.sources.greens.TOLERANCE`,
    :mod:`crknee.sources.slab_kernel`; the dipole then varies with energy and
    ``KneeResult.direction`` is None).  Sources must lie inside the halo.

    ``injection``: "burst" (all particles released at age t, eq. 6) or "continuous": a
    constant injection rate over ``duration_Myr`` (per set, a call argument), switched on
    ``t_Myr`` ago and off ``t_Myr - duration_Myr`` ago (0 < duration <= t; duration = t:
    still active), i.e. the burst integrated over emission ages [t - duration, t].  In
    both modes ``E_erg`` is the *total* energy injected above 1 GeV (kinetic, per particle;
    :mod:`crknee.sources.injection`), so the rate is E_erg / duration and duration -> 0 is
    the burst of age t.  Free space: the closed form erfc(r/sqrt(4Dt)) / (4 pi D r)
    between the window's ends; halo: composite Gauss-Legendre in ln t' of the exact
    burst (panels of greens.QUAD_PANEL, greens.QUAD_NODES nodes; the window starts at
    t - duration or where the burst is below e^-QUAD_CUT, as greens.slab_continuous).

    ``groups``: composition groups with a common spectrum and a per-set weight: None (one
    group per element of the composition), "peters" (H, He, CNO, NeSi, Fe:
    :func:`crknee.sources.injection.peters_groups`) or a mapping name -> nuclides.  The
    call's ``weights`` (W, G) (or (G,)) multiply each group's abundance at equal
    rigidity (``Composition``); q0 stays fixed by ``E_erg`` for weights = 1, so
    ``E_erg`` is the energy the source injects with the reference abundances, a weight
    scales its group's flux exactly and the energy actually injected is
    :meth:`injected_energy_erg`.  Every group shares R_cut and beta (a Peters cycle).
    """

    def __init__(
        self,
        E_flux_GeV,
        E_aniso_GeV,
        species=("H1",),
        *,
        composition: Composition | None = None,
        diffusion: Diffusion | None = None,
        halo_kpc: float | None = None,
        injection: str = "burst",
        groups=None,
    ):
        if halo_kpc is not None:
            halo_kpc = value_in("halo_kpc", halo_kpc, "kpc", "positive")
        if injection not in INJECTIONS:
            raise InputError(f"injection must be one of {INJECTIONS}; got {injection!r}")
        self.halo_kpc = halo_kpc
        self.injection = injection
        self.composition = galprop_composition() if composition is None else composition
        self.diffusion = Diffusion() if diffusion is None else diffusion
        self.groups = resolve_groups(groups, self.composition)
        self.group_names = tuple(self.groups)
        group_of = {nuc: g for g, members in enumerate(self.groups.values()) for nuc in members}
        self.E_flux = np.asarray(value_in("E_flux_GeV", E_flux_GeV, "GeV", "positive"), dtype=float)
        self.E_aniso = np.asarray(value_in("E_aniso_GeV", E_aniso_GeV, "GeV", "positive"), dtype=float)
        Ef, self._inv_flux = np.unique(self.E_flux, return_inverse=True)
        Ea, self._inv_aniso = np.unique(self.E_aniso, return_inverse=True)
        self._aniso = _Grid(Ea, self.composition.species, self.composition, self.diffusion)
        # spectra on the anisotropy energies come out of the same pass (a 0/1 species x name
        # matrix), otherwise from a grid of their own
        self._fused = Ef.shape == Ea.shape and np.array_equal(Ef, Ea)
        self._member = np.array(
            [[sp in self.composition.members(name) for name in species] for sp in self._aniso.species], dtype=float
        ).reshape(len(self._aniso.species), len(species))
        self._flux_grids = (
            {}
            if self._fused
            else {name: _Grid(Ef, self.composition.members(name), self.composition, self.diffusion) for name in species}
        )
        self._species_names = tuple(species)
        self._group_index = {
            id(g): np.array([group_of[sp] for sp in g.species], dtype=np.int64)
            for g in (self._aniso, *self._flux_grids.values())
        }
        self._D_max_aniso = self._aniso.D_max[self._inv_aniso.ravel()].reshape(self.E_aniso.shape)
        self._D_max_all = max([g.D.max() for g in (self._aniso, *self._flux_grids.values()) if g.D.size], default=1.0)

    def injected_energy_erg(self, E_erg, beta, Rcut_GV, weights=None):
        """Energy [erg] injected above 1 GeV by sets with normalisation ``E_erg`` and group
        ``weights`` (W, G): E_erg sum_g w_g I_g / sum_g I_g, I_g the energy integral of group
        g's abundances (:func:`crknee.sources.injection.energy_integral_fast`)."""
        E, beta, rc = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in (E_erg, beta, Rcut_GV)))
        if weights is None:
            return E.copy()
        w = self._weights(weights, E.size)
        parts = np.stack(
            [
                energy_integral_fast(beta, rc, group_composition(self.composition, members))
                for members in self.groups.values()
            ],
            axis=-1,
        )
        return E * np.sum(w * parts, axis=-1) / np.sum(parts, axis=-1)

    def _weights(self, weights, n):
        w = np.asarray(weights, dtype=float)
        G = len(self.group_names)
        if w.ndim == 1:
            w = np.broadcast_to(w, (n, w.size))
        if w.shape != (n, G):
            raise InputError(f"weights must have shape ({n}, {G}) for groups {self.group_names}; got {w.shape}")
        if np.any(~np.isfinite(w) | (w < 0)):
            raise InputError(f"group weights must be finite and >= 0; got {w[~np.isfinite(w) | (w < 0)].flat[0]!r}")
        return w

    def _fused_flux(self, parts, iff):
        """{name: (W, N_flux)} from the groups' fluxes of the fused pass (empty if none)."""
        if parts is None:
            return {}
        if iff.size == parts.shape[2] and np.array_equal(iff, np.arange(iff.size)):  # distinct, sorted energies
            return {name: parts[:, g, :] for g, name in enumerate(self._species_names)}
        return {name: parts[:, g, :][:, iff] for g, name in enumerate(self._species_names)}

    def _species_weights(self, grid, w):
        """(per-species weights (W, S) or None, their logs (W, S), -inf where 0)."""
        S = len(grid.species)
        if w is None:
            return None, np.zeros((1, S)) if S else np.zeros((1, 0))
        ws = np.ascontiguousarray(w[:, self._group_index[id(grid)]])
        with np.errstate(divide="ignore"):
            return ws, np.log(ws)

    def __call__(self, l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg, duration_Myr=None, weights=None) -> KneeResult:
        """Evaluate W parameter sets (each argument broadcast to shape (W,); floats in
        deg, deg, kpc, Myr, GV, -, erg; ``duration_Myr`` [Myr] for continuous injection;
        ``weights`` (W, G) group weights or None = all 1)."""
        continuous = self.injection == "continuous"
        if continuous and duration_Myr is None:
            raise InputError("continuous injection needs duration_Myr (the time the source was active)")
        if not continuous and duration_Myr is not None:
            raise InputError(f"duration_Myr={duration_Myr!r} is for injection='continuous', not a burst")
        args = (l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg) + ((duration_Myr,) if continuous else ())
        # the unit convention at the edge (crknee.units): Quantities or floats in the documented units
        args = [value_in(name, x, unit) for name, x, unit in zip(_CALL_UNITS, args, _CALL_UNITS.values())]
        arrs = [np.atleast_1d(np.asarray(x, dtype=float)) for x in np.broadcast_arrays(*args)]
        l, b, d, t, rc, beta, W = arrs[:7]
        for name, v in (("distance", d), ("age", t), ("injected energy", W)):
            if np.any(~np.isfinite(v) | (v <= 0)):
                raise InputError(f"{name} must be finite and > 0; got {v[~np.isfinite(v) | (v <= 0)].flat[0]!r}")
        if np.any(~np.isfinite(b) | (np.abs(b) > 90.0)):
            raise InputError(
                f"latitude b must lie in [-90, 90] deg; got {b[~np.isfinite(b) | (np.abs(b) > 90)].flat[0]!r}"
            )
        check_spectrum(beta, rc)
        w = None if weights is None else self._weights(weights, l.size)
        ln_q0 = np.log(W * GEV_PER_ERG / energy_integral_fast(beta, rc, self.composition))
        inv_rc = 1.0 / rc
        if continuous:
            dur = arrs[7]
            bad = ~np.isfinite(dur) | (dur <= 0) | (dur > t * (1.0 + 1e-12))
            if np.any(bad):
                raise InputError(
                    f"duration must be finite, > 0 and <= the age t; got duration "
                    f"{dur[bad].flat[0]!r} Myr at t = {t[bad].flat[0]!r} Myr"
                )
            t0 = np.maximum(t - dur, 0.0)
            ln_rate = ln_q0 - np.log(dur)
        valid = (C_KPC_MYR * t >= VALIDITY_FACTOR * d)[:, None] & (3.0 * self._D_max_aniso / C_KPC_MYR <= d[:, None])
        ia, iff = self._inv_aniso.ravel(), self._inv_flux.ravel()
        if self.halo_kpc is not None:
            H = float(self.halo_kpc)
            br = np.radians(b)
            zs = d * np.sin(br)
            if np.any(np.abs(zs) >= H):
                raise InputError(f"source height {np.abs(zs).max():.3g} kpc lies outside the halo |z| < {H!r} kpc")
            rho = d * np.cos(br)
            cosf, sinf = slab_kernel.mode_factors(zs, H)
            sets = {"rho2": rho * rho, "zs": zs, "beta": beta, "inv_rc": inv_rc, "cosf": cosf, "sinf": sinf}
            if continuous:
                rows = _quadrature_rows(t, t0, d, self._D_max_all, ln_rate)
            else:
                rows = (np.arange(t.size), t, ln_q0, False)

            def run(grid, gradient, member=None):
                lnw = self._species_weights(grid, w)[1]
                return grid.halo(
                    rows, dict(sets, lnw=np.broadcast_to(lnw, (t.size, lnw.shape[1])).copy()), H, gradient, member
                )

            flux = {name: run(g, False)[0][:, iff] for name, g in self._flux_grids.items()}
            flux_all, vert, horiz, parts = run(self._aniso, True, self._member if self._fused else None)
            flux.update(self._fused_flux(parts, iff))
            # own dipole: 3 rho / (2 c t) towards the source's foot point per burst (exact in
            # the slab, every species alike; flux-weighted over the emission ages of a
            # continuous source) + the flux-weighted vertical part sum_s J_s 3 D_s / c dz ln G_s
            out_flux = np.empty((t.size, ia.size))
            dipole = np.empty((t.size, ia.size, 3))
            h_amp = 1.5 * rho / C_KPC_MYR * (1.0 if continuous else 1.0 / t)
            slab_kernel.assemble_halo_dipole(
                flux_all,
                vert,
                horiz if continuous else np.zeros((t.size, 0)),
                h_amp,
                unit_vector(l, 0.0),
                ia,
                out_flux,
                dipole,
            )
            return KneeResult(flux, out_flux, dipole, valid)
        if continuous:

            def run(grid, member=None):
                return grid.continuous_free(
                    d,
                    t,
                    t0,
                    ln_rate,
                    beta,
                    inv_rc,
                    np.broadcast_to(self._species_weights(grid, w)[1], (t.size, len(grid.species))).copy(),
                    member,
                )

            flux = {name: run(g)[0][:, iff] for name, g in self._flux_grids.items()}
            flux_all, radial, parts = run(self._aniso, self._member if self._fused else None)
            flux.update(self._fused_flux(parts, iff))
            with np.errstate(divide="ignore", invalid="ignore"):
                amp = radial / flux_all  # NaN where no flux
            dipole = amp[..., None] * unit_vector(l, b)[:, None, :]
            return KneeResult(flux, flux_all[:, ia], dipole[:, ia], valid)
        flux = {
            name: g.flux(ln_q0, beta, inv_rc, t, d, self._species_weights(g, w)[0])[0][:, iff]
            for name, g in self._flux_grids.items()
        }
        flux_all, parts = self._aniso.flux(
            ln_q0, beta, inv_rc, t, d, self._species_weights(self._aniso, w)[0], self._member if self._fused else None
        )
        flux_all = flux_all[:, ia]
        flux.update(self._fused_flux(parts, iff))
        amp = 1.5 * d / (C_KPC_MYR * t)
        vec = amp[:, None] * unit_vector(l, b)
        dipole = np.broadcast_to(vec[:, None, :], flux_all.shape + (3,))
        return KneeResult(flux, flux_all, dipole, valid, vec)


def _quadrature_rows(t, t0, r, D_max, ln_rate):
    """Rows (set, emission age t', ln(rate x weight x t'), True) of the composite
    Gauss-Legendre rule in ln t' over [lo, t], lo = t0 or, for a source still active,
    where the fastest burst is below e^-QUAD_CUT (greens.slab_continuous's rule)."""
    lo = np.where(t0 > 0, t0, np.minimum(r * r / (4.0 * D_max * greens.QUAD_CUT), 0.5 * t))
    ulo, uhi = np.log(lo), np.log(t)
    n_p = np.maximum(np.ceil((uhi - ulo) / greens.QUAD_PANEL), 1).astype(np.int64)
    x, wq = np.polynomial.legendre.leggauss(greens.QUAD_NODES)
    panel_set = np.repeat(np.arange(t.size), n_p)
    k = np.arange(n_p.sum()) - np.repeat(np.cumsum(n_p) - n_p, n_p)
    h = ((uhi - ulo) / n_p)[panel_set]
    u = (ulo[panel_set] + k * h)[:, None] + 0.5 * h[:, None] * (x + 1.0)
    lnq = ln_rate[panel_set][:, None] + np.log(0.5 * h[:, None] * wq) + u  # dt' = t' du
    return np.repeat(panel_set, x.size), np.exp(u).ravel(), lnq.ravel(), True


def knee_model(
    E_flux_GeV,
    E_aniso_GeV,
    l_deg,
    b_deg,
    d_kpc,
    t_Myr,
    Rcut_GV,
    beta,
    E_erg,
    species=("H1",),
    *,
    composition: Composition | None = None,
    diffusion: Diffusion | None = None,
    halo_kpc: float | None = None,
    injection: str = "burst",
    groups=None,
    duration_Myr=None,
    weights=None,
) -> KneeResult:
    """One-shot :class:`KneeModel` (build + call); build the class once inside loops."""
    return KneeModel(
        E_flux_GeV,
        E_aniso_GeV,
        species,
        composition=composition,
        diffusion=diffusion,
        halo_kpc=halo_kpc,
        injection=injection,
        groups=groups,
    )(l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg, duration_Myr=duration_Myr, weights=weights)

"""Vectorised knee-source model for the MCMC (paper Sec. 3: the single burst source).

One call evaluates a batch of parameter sets (walkers) at once: the flux at the Sun of
the species asked for on one energy grid and, on a second grid, the source's all-particle
flux and its own dipole vectors (to be combined with the background by
:func:`crknee.anisotropy.combine`).  The physics is that of
:class:`crknee.sources.point.PointSource` in burst mode and free space (paper eq. 5-6):

    J_i(E) = q0 f_i (R/R0)^-beta exp(-R/Rcut) (4 pi D t)^-3/2 exp(-d^2 / (4 D t))
             * FLUX_PER_DENSITY * v/c * dR/dE,          delta = 3 d / (2 c t) * u_source

evaluated as a single exponential of a sum of precomputed per-energy terms (one BLAS
matrix product per block of parameter sets, :class:`_Grid`); q0 comes from the tabulated
energy integral (:func:`crknee.sources.injection.energy_integral_fast`, 1e-7 accurate).
Fluxes below :data:`FLUX_FLOOR` are returned as 0.  The test suite checks it against
PointSource to 1e-6.  Speed (benchmarks/bench_anisotropy.py): ~2e5 parameter sets/s for
the all-particle flux and dipole on 184 energies and 10 species, one core.

``halo_kpc=H``: the same source in the background's halo (free escape at |z| = H), each
(species, energy) and block of sets summed by images or slab eigenmodes, whichever needs
fewer exponentials for :data:`crknee.sources.greens.TOLERANCE` (:meth:`_Grid.halo`);
~5e4 sets/s on the same workload (benchmarks/bench_sources.py), ~125x the image sums alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.anisotropy import unit_vector
from crknee.constants import C_KPC_MYR, GEV_PER_ERG
from crknee.errors import InputError
from crknee.kinematics import nuclide
from crknee.sources import greens
from crknee.sources.injection import R0_GV, Composition, check_spectrum, energy_integral_fast, galprop_composition
from crknee.sources.point import FLUX_PER_DENSITY, VALIDITY_FACTOR, rigidity_and_speed
from crknee.transport import Diffusion


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
#: Parameter sets per block of the finite-halo evaluation (:meth:`_Grid.halo`): the sets
#: are sorted by age so that a block's ages, hence its term counts, are close.
HALO_CHUNK = 1024
#: A block of sets whose common plan would need more exponentials than this per
#: (species, energy) is halved (ages too far apart); one set never needs more than ~6.
MAX_TERMS = 8


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
            np.array(x).reshape(shape) for x in zip(*rows))
        self.D_max = self.D.max(axis=0) if rows else np.full(E.shape, -np.inf)
        # rows of the exponent's coefficient matrix, in the order of _Grid.flux's columns
        self._coef = np.stack([self.const.ravel(), np.ones(self.const.size), -self.lnR.ravel(), -self.R.ravel(),
                               -self.quarter_invD.ravel()])

    def flux(self, ln_q0, beta, inv_Rcut, t, d):
        """(W, N) summed over species; parameters of shape (W,)."""
        S, N = self.const.shape
        W = ln_q0.shape[0]
        out = np.zeros((W, N))
        if S == 0 or N == 0:
            return out
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
            np.sum(arg.reshape(b - a, S, N), axis=1, out=out[a:b])
        out[out < FLUX_FLOOR] = 0.0
        return out

    def _halo_setup(self, H):
        """Coefficient rows of the halo exponents on the energies sorted by D (ascending
        within each species row), cached per halo height: see :meth:`halo`."""
        if getattr(self, "_halo_H", None) == H:
            return
        order = np.argsort(self.D_max, kind="stable")
        D = self.D[:, order]
        log_pref = self.log_pref[:, order]
        ln4piD = np.log(4.0 * np.pi * D)
        self._halo_H, self._order, self._Ds = H, order, D
        # rows: image const, mode const, 1, -ln R, -R, -1/(4D), -D, ln(3 D / c)
        self._hcoef = np.ascontiguousarray(np.stack([
            log_pref - 1.5 * ln4piD, log_pref - ln4piD, np.ones_like(D), -self.lnR[:, order], -self.R[:, order],
            -0.25 / D, -D, np.log(3.0 * D / C_KPC_MYR)]))

    def halo(self, ln_q0, beta, inv_Rcut, t, d, b_deg, halo_kpc, gradient=True, tol=greens.TOLERANCE):
        """Finite halo (burst): ((W, N) flux summed over species, (W, N) vertical dipole
        numerator sum_s J_s 3 D_s / c d ln G_s / dz, or None without ``gradient``).

        Per block of parameter sets (sorted by age) and per (species, energy) the slab
        kernel is summed by images or eigenmodes, whichever needs fewer exponentials for
        ``tol`` over the block (:func:`crknee.sources.greens.image_pairs_needed`,
        :func:`crknee.sources.greens.modes_needed`).  Every term is the exponential of one
        more BLAS product of per-set and per-(species, energy) rows:

            image n:  ln J = c3 + ln q0 - 1.5 ln t - beta ln R - R / Rcut - (rho^2 + z_n^2) / (4 D t)
            cos mode: ln J = c2 + ln q0 - ln t - ln H + ln|cos(l_m z_s)| - ... - rho^2 / (4 D t) - l_m^2 D t
            sin mode: the vertical numerator, + ln(3 D / c) + ln|mu_k sin(mu_k z_s)| instead of ln|cos|

        with c3 = ln(pref) - 1.5 ln(4 pi D), c2 = ln(pref) - ln(4 pi D); the images give
        the vertical numerator through per-set weights 3 z_n / (2 c t)."""
        S, N = self.const.shape
        W = t.size
        flux = np.zeros((W, N))
        vert = np.zeros((W, N)) if gradient else None
        if S == 0 or N == 0 or W == 0:
            return flux, vert
        H = float(halo_kpc)
        self._halo_setup(H)
        coef, Ds = self._hcoef, self._Ds
        b = np.radians(b_deg)
        rho2 = (d * np.cos(b)) ** 2
        zs = d * np.sin(b)
        by_age = np.argsort(t, kind="stable")
        for a in range(0, W, HALO_CHUNK):
            rows = by_age[a:a + HALO_CHUNK]
            f, v = self._halo_block(coef, Ds, H, ln_q0[rows], beta[rows], inv_Rcut[rows], t[rows], rho2[rows],
                                    zs[rows], gradient, tol)
            flux[rows[:, None], self._order] = f
            if gradient:
                vert[rows[:, None], self._order] = v
        flux[flux < FLUX_FLOOR] = 0.0
        return flux, vert

    @staticmethod
    def _halo_block(coef, Ds, H, ln_q0, beta, inv_Rcut, t, rho2, zs, gradient, tol):
        """One block of sets (see :meth:`halo`): (flux, vertical numerator) on the sorted energies."""
        S, N = Ds.shape
        n = t.size
        images, pairs, M, K = greens.slab_plan(Ds * (t.min() / H**2), Ds * (t.max() / H**2), np.abs(zs).max() / H,
                                               gradient, tol)
        cost = np.where(images, 2 * pairs + 1, M + 1 + K)
        if n > 1 and cost.max() > MAX_TERMS:  # ages too far apart for one plan: halve the block
            h = n // 2
            parts = [_Grid._halo_block(coef, Ds, H, *(x[sl] for x in (ln_q0, beta, inv_Rcut, t, rho2, zs)),
                                       gradient, tol) for sl in (slice(0, h), slice(h, n))]
            return np.concatenate([p[0] for p in parts]), (np.concatenate([p[1] for p in parts]) if gradient else None)
        plan = np.where(images, pairs, -1 - (M * 1000 + K))  # >= 0: image pairs; < 0: modes
        ln_t = np.log(t)
        base = np.zeros((n, 8))
        base[:, 2] = ln_q0
        base[:, 3] = beta
        base[:, 4] = inv_Rcut
        img_cache, mode_cache = {}, {}

        def image_term(m):
            if m not in img_cache:
                zn = 2.0 * m * H + (-1.0 if m % 2 else 1.0) * zs
                X = base.copy()
                X[:, 0] = 1.0
                X[:, 2] += -1.5 * ln_t
                X[:, 5] = (rho2 + zn * zn) / t
                img_cache[m] = X
            return img_cache[m]

        za = np.abs(zs)

        def mode_term(kind, m):
            key = (kind, m)
            if key not in mode_cache:
                if kind == "cos":
                    k = (2 * m + 1) * np.pi / (2.0 * H)
                    trig = np.cos(k * za)
                else:  # with |z_s|: the sign of z_s is applied once to the sum
                    k = m * np.pi / H
                    trig = k * np.sin(k * za)
                X = base.copy()
                X[:, 1] = 1.0
                X[:, 2] += -ln_t - np.log(H) + np.log(np.maximum(np.abs(trig), 1e-300))
                X[:, 5] = rho2 / t
                X[:, 6] = k * k * t
                X[:, 7] = 1.0 if kind == "sin" else 0.0
                sign = np.sign(trig)
                mode_cache[key] = (X, None if np.all(sign > 0) else sign)
            return mode_cache[key]

        # even and odd images (P, Q: flux = P - Q), sum_n (-1)^n n e_n (A), modes' flux (F)
        # and unsigned vertical numerator (V), energy-major (N, n) so that a run of energies
        # is one contiguous block; combined once at the end
        P, Q, A, F = (np.zeros((N, n)) for _ in range(4))
        V = np.zeros((N, n)) if gradient else None
        for s in range(S):
            p = plan[s]
            cuts = np.flatnonzero(np.diff(p)) + 1
            for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, N]):
                c = coef[:, s, lo:hi].T
                code = int(p[lo])
                if code >= 0:
                    for m in range(-code, code + 1):
                        e = _exp_of(image_term(m), c)
                        (Q if m % 2 else P)[lo:hi] += e
                        if gradient and m:
                            weight = -m if m % 2 else m  # (-1)^n n
                            if abs(weight) > 1:
                                e *= weight
                                A[lo:hi] += e
                            elif weight > 0:
                                A[lo:hi] += e
                            else:
                                A[lo:hi] -= e
                else:
                    Mx, Kx = divmod(-1 - code, 1000)
                    for m in range(Mx + 1):
                        X, sign = mode_term("cos", m)
                        e = _exp_of(X, c)
                        if sign is not None:
                            e *= sign
                        F[lo:hi] += e
                    for k in range(1, Kx + 1):
                        X, sign = mode_term("sin", k)
                        e = _exp_of(X, c)
                        if sign is not None:
                            e *= sign
                        V[lo:hi] += e
        flux = F
        flux += P
        flux -= Q
        if not gradient:
            return flux.T, None
        # images: sum_n (-1)^n z_n e_n = 2 H A + z_s (P + Q), times 3 / (2 c t); modes: sign(z_s) V
        P += Q
        P *= zs
        A *= 2.0 * H
        A += P
        A *= 1.5 / (C_KPC_MYR * t)
        V *= np.sign(zs)
        V += A
        return flux.T, V.T


def _exp_of(X, c):
    """exp(c @ X.T) (energies x sets), exponents clamped at LN_CLAMP (exp's fast path)."""
    arg = c @ X.T
    np.maximum(arg, LN_CLAMP, out=arg)
    return np.exp(arg, out=arg)


class KneeModel:
    """Batch evaluator of the burst point source.

    ``E_flux_GeV``: total energies per particle [GeV] of the spectra; ``species``: names
    whose flux is returned on that grid ("H1", an element such as "He", or "all");
    ``E_aniso_GeV``: energies of the all-particle flux and dipole.  ``halo_kpc``: None for
    free space (eq. 6, the paper's mode) or the half-height H [kpc] of the background's
    halo (free escape at |z| = H; images or eigenmodes per energy, exact to
    :data:`crknee.sources.greens.TOLERANCE`; the dipole then varies with energy and
    ``KneeResult.direction`` is None).  Sources must lie inside the halo.
    """

    def __init__(self, E_flux_GeV, E_aniso_GeV, species=("H1",), *, composition: Composition | None = None,
                 diffusion: Diffusion | None = None, halo_kpc: float | None = None):
        if halo_kpc is not None and (not np.isfinite(halo_kpc) or halo_kpc <= 0):
            raise InputError(f"halo half-height must be finite and > 0 kpc; got {halo_kpc!r}")
        self.halo_kpc = halo_kpc
        self.composition = galprop_composition() if composition is None else composition
        self.diffusion = Diffusion() if diffusion is None else diffusion
        self.E_flux = np.asarray(E_flux_GeV, dtype=float)
        self.E_aniso = np.asarray(E_aniso_GeV, dtype=float)
        self._flux_grids = {name: _Grid(self.E_flux, self.composition.members(name), self.composition, self.diffusion)
                            for name in species}
        self._aniso = _Grid(self.E_aniso, self.composition.species, self.composition, self.diffusion)

    def __call__(self, l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg) -> KneeResult:
        """Evaluate W parameter sets (each argument broadcast to shape (W,); floats in
        deg, deg, kpc, Myr, GV, -, erg)."""
        l, b, d, t, rc, beta, W = (np.atleast_1d(np.asarray(x, dtype=float))
                                   for x in np.broadcast_arrays(l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg))
        for name, v in (("distance", d), ("age", t), ("burst energy", W)):
            if np.any(~np.isfinite(v) | (v <= 0)):
                raise InputError(f"{name} must be finite and > 0; got {v[~np.isfinite(v) | (v <= 0)].flat[0]!r}")
        if np.any(~np.isfinite(b) | (np.abs(b) > 90.0)):
            raise InputError(f"latitude b must lie in [-90, 90] deg; got {b[~np.isfinite(b) | (np.abs(b) > 90)].flat[0]!r}")
        check_spectrum(beta, rc)
        ln_q0 = np.log(W * GEV_PER_ERG / energy_integral_fast(beta, rc, self.composition))
        inv_rc = 1.0 / rc
        valid = (C_KPC_MYR * t >= VALIDITY_FACTOR * d)[:, None] & (3.0 * self._aniso.D_max / C_KPC_MYR <= d[:, None])
        if self.halo_kpc is not None:
            zs = np.abs(d * np.sin(np.radians(b)))
            if np.any(zs >= self.halo_kpc):
                raise InputError(f"source height {zs.max():.3g} kpc lies outside the halo |z| < {self.halo_kpc!r} kpc")
            flux = {name: g.halo(ln_q0, beta, inv_rc, t, d, b, self.halo_kpc, gradient=False)[0]
                    for name, g in self._flux_grids.items()}
            flux_all, vert = self._aniso.halo(ln_q0, beta, inv_rc, t, d, b, self.halo_kpc)
            # own dipole: 3 rho / (2 c t) towards the source's foot point (exact in the slab,
            # every species alike) + the flux-weighted vertical part sum_s J_s 3 D_s / c dz ln G_s
            horiz = (1.5 * d * np.cos(np.radians(b)) / (C_KPC_MYR * t))[:, None] * unit_vector(l, 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = np.divide(1.0, flux_all)  # inf where no flux
                one = flux_all * inv  # 1, or NaN where no flux (no direction)
                dipole = np.empty(flux_all.shape + (3,))
                for k in range(2):
                    np.multiply(one, horiz[:, k, None], out=dipole[..., k])
                np.multiply(vert, inv, out=dipole[..., 2])
                dipole[..., 2] *= one
            return KneeResult(flux, flux_all, dipole, valid)
        flux = {name: g.flux(ln_q0, beta, inv_rc, t, d) for name, g in self._flux_grids.items()}
        flux_all = self._aniso.flux(ln_q0, beta, inv_rc, t, d)
        amp = 1.5 * d / (C_KPC_MYR * t)
        vec = amp[:, None] * unit_vector(l, b)
        dipole = np.broadcast_to(vec[:, None, :], flux_all.shape + (3,))
        return KneeResult(flux, flux_all, dipole, valid, vec)


def knee_model(E_flux_GeV, E_aniso_GeV, l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg, species=("H1",), *,
               composition: Composition | None = None, diffusion: Diffusion | None = None,
               halo_kpc: float | None = None) -> KneeResult:
    """One-shot :class:`KneeModel` (build + call); build the class once inside loops."""
    return KneeModel(E_flux_GeV, E_aniso_GeV, species, composition=composition, diffusion=diffusion,
                     halo_kpc=halo_kpc)(
        l_deg, b_deg, d_kpc, t_Myr, Rcut_GV, beta, E_erg)

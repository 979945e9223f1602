"""The background solution at the Sun: spectra, ratios, all-particle flux, gradients.

Densities per unit momentum psi (eq. 1) become intensities by J = v psi / (4 pi); per
unit kinetic energy per nucleon J_Ekn = J_p dp/dEkn = c A psi / (4 pi).  Spectra are
interpolated linearly in (ln Ekn, ln J) on the solver grid and moved to any energy
variable with the exact Jacobian of :mod:`crknee.kinematics`.  Earth spectra use the
force field (:func:`crknee.modulation.force_field_factor`, phi = 550 MV by default).

Normalisations: one injection constant Q_g per primary group (``GROUPS``: H, He, Z > 2)
in cm^-3 GeV^-1 Myr^-1 (source density per unit momentum at R_br of a nucleus with
a = 1, A = Z = 1, at r = r_sun, z = 0; eq. 3-4).  The solution is linear in them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np
from astropy.constants import c as _c

from crknee.errors import InputError, UnknownSpeciesError
from crknee.kinematics import ELEMENT_SYMBOLS, VARIABLES, dvar_dp, from_momentum, momentum_from, nuclide
from crknee.modulation import PHI_PAPER, _phi_GV, force_field_factor
from crknee.propagation.solver import GROUPS, RawSolution, solve_raw

#: Unit of the group normalisations Q_g.
Q_UNIT = u.cm**-3 / u.GeV / u.Myr
#: J = c A psi / (4 pi) with psi in cm^-3 GeV^-1 -> m^-2 s^-1 sr^-1 GeV^-1 (per GeV/n).
_J_FACTOR = _c.to_value(u.cm / u.s) * 1e4 / (4.0 * np.pi)
FLUX_UNIT = u.m**-2 / u.s / u.sr


@dataclass(frozen=True)
class Solution:
    """Propagated background at the Sun for ``model`` (see :func:`crknee.propagation.solve`).

    ``norms`` (3,) Q_g [cm^-3 GeV^-1 Myr^-1] for :data:`GROUPS`; ``raw`` the per-group
    solver output; ``nuclides`` the network's nuclides in solver order.
    """

    model: object
    nuclides: tuple
    raw: RawSolution
    norms: u.Quantity

    def __post_init__(self):
        q = self.norms.to_value(Q_UNIT) if isinstance(self.norms, u.Quantity) else None
        if q is None or np.shape(q) != (len(GROUPS),) or np.any(~np.isfinite(q)) or np.any(q < 0):
            raise InputError(
                f"norms must be {len(GROUPS)} finite values >= 0 in {Q_UNIT} for {GROUPS}; got {self.norms!r}"
            )

    @property
    def species(self) -> list[str]:
        return [n.name for n in self.nuclides]

    @property
    def diffusion(self):
        """The :class:`crknee.transport.Diffusion` (eq. 2) of the model."""
        return self.model.diffusion

    @property
    def ekn(self) -> u.Quantity:
        """Solver grid of kinetic energy per nucleon."""
        return self.raw.ekn * u.GeV

    def with_norms(self, norms: u.Quantity) -> Solution:
        """The same solution with other group normalisations (no re-solve: linear)."""
        return replace(self, norms=norms)

    def point_source(self, name: str, **params):
        """A :class:`crknee.sources.point.PointSource` in this background's propagation
        environment (paper Sec. 2.2: "the same propagation environment"): the model's
        :class:`~crknee.transport.Diffusion` (eq. 2) and its halo half-height H (free escape
        at |z| = H).  ``params``: the other PointSource fields (Quantities or floats in the
        documented units); ``diffusion`` and ``halo_kpc`` come from the solution, so passing
        them raises :class:`InputError`."""
        from crknee.sources.point import PointSource

        shared = sorted({"diffusion", "halo_kpc"} & set(params))
        if shared:
            raise InputError(
                f"point_source takes {', '.join(shared)} from the background solution; build a "
                f"PointSource directly for another propagation environment"
            )
        return PointSource(name=name, diffusion=self.diffusion, halo_kpc=self.model.floats().H, **params)

    # -- internals (plain floats) --------------------------------------------------------
    def _members(self, name: str) -> list[int]:
        names = self.species
        if name in ELEMENT_SYMBOLS:
            idx = [i for i, n in enumerate(self.nuclides) if n.element == name]
        else:
            try:
                key = nuclide(name).name
            except UnknownSpeciesError:
                raise UnknownSpeciesError(f"unknown species {name!r}; the network holds {names}") from None
            idx = [i for i, n in enumerate(names) if n == key]
        if not idx:
            raise UnknownSpeciesError(f"species {name!r} is not in the network {names}")
        return idx

    def _q(self) -> np.ndarray:
        return self.norms.to_value(Q_UNIT)

    def _j_ekn_grid(self, i: int) -> np.ndarray:
        """J per unit Ekn [m^-2 s^-1 sr^-1 (GeV/n)^-1] of nuclide i on the grid."""
        return _J_FACTOR * self.nuclides[i].A * (self.raw.psi[i] @ self._q())

    def _check_on_grid(self, ekn) -> None:
        """InputError naming the first energy per nucleon off the solver grid (no silent
        extrapolation; 1e-12 relative slack for round-off at the edges)."""
        grid = self.raw.ekn
        if np.any((ekn < grid[0] * (1 - 1e-12)) | (ekn > grid[-1] * (1 + 1e-12))):
            bad = ekn[(ekn < grid[0]) | (ekn > grid[-1])].flat[0]
            raise InputError(
                f"kinetic energy per nucleon {bad!r} GeV outside the solver grid [{grid[0]:.4g}, {grid[-1]:.4g}] GeV/n"
            )

    def _interp(self, i: int, ekn) -> np.ndarray:
        grid = self.raw.ekn
        self._check_on_grid(ekn)
        y = np.log(np.maximum(self._j_ekn_grid(i), 1e-300))
        return np.exp(np.interp(np.log(ekn), np.log(grid), y))

    @staticmethod
    def _values(E: u.Quantity, var: str) -> np.ndarray:
        if var not in VARIABLES:
            raise InputError(f"unknown energy variable {var!r}; expected one of {sorted(VARIABLES)}")
        try:
            return np.atleast_1d(E.to_value(VARIABLES[var]))
        except (AttributeError, u.UnitConversionError) as exc:
            raise InputError(f"energy must be a Quantity in {VARIABLES[var]} for {var}; got {E!r}") from exc

    def _flux(self, name: str, E: u.Quantity, var: str, phi_GV: float | None) -> u.Quantity:
        x = self._values(E, var)
        total = np.zeros(x.shape)
        for i in self._members(name):
            n = self.nuclides[i]
            p = momentum_from(x, var, n.Z, n.A, n.mass_GeV)
            ekn = from_momentum(p, "Ekn", n.Z, n.A, n.mass_GeV)
            if phi_GV is None:
                j = self._interp(i, ekn)
            else:
                e_lis, ratio = force_field_factor(ekn, phi_GV, n.Z, n.A, n.mass_GeV)
                j = self._interp(i, e_lis) * ratio
            total += j * dvar_dp(p, "Ekn", n.Z, n.A, n.mass_GeV) / dvar_dp(p, var, n.Z, n.A, n.mass_GeV)
        out = total.reshape(np.shape(E.value)) if np.ndim(E.value) else total[0]
        return out * FLUX_UNIT / VARIABLES[var]

    # -- public API -----------------------------------------------------------------------
    def lis(self, name: str, E: u.Quantity, var: str = "Ekn") -> u.Quantity:
        """Local interstellar intensity of a nuclide ("He4") or element ("He", isotopes
        summed at equal ``var``) per unit ``var`` [m^-2 s^-1 sr^-1 / unit(var)]."""
        return self._flux(name, E, var, None)

    def earth(self, name: str, E: u.Quantity, var: str = "Ekn", phi=PHI_PAPER) -> u.Quantity:
        """Force-field modulated intensity at Earth (Gleeson & Axford 1968), per unit ``var``."""
        return self._flux(name, E, var, _phi_GV(phi))

    def ratio(
        self, num: str, den: str, E: u.Quantity, var: str = "Ekn", at: str = "earth", phi=PHI_PAPER
    ) -> np.ndarray:
        """Flux ratio num/den at equal ``var`` (e.g. B/C vs Ekn or R), ``at`` "earth" or "lis"."""
        if at not in ("earth", "lis"):
            raise InputError(f"at must be 'earth' or 'lis'; got {at!r}")
        f = (lambda s: self.earth(s, E, var, phi)) if at == "earth" else (lambda s: self.lis(s, E, var))
        return (f(num) / f(den)).to_value(u.dimensionless_unscaled)

    def all_particle(self, E: u.Quantity, at: str = "lis", phi=PHI_PAPER) -> u.Quantity:
        """Sum over every nuclide of the network vs total energy per particle [per GeV]."""
        if at not in ("earth", "lis"):
            raise InputError(f"at must be 'earth' or 'lis'; got {at!r}")
        phi_GV = None if at == "lis" else _phi_GV(phi)
        x = self._values(E, "Etot")
        out = np.zeros(x.shape)
        for n in self.nuclides:
            ok = x >= n.mass_GeV + n.A * self.raw.ekn[0]
            if np.any(ok):
                out[ok] += self._flux(n.name, x[ok] * u.GeV, "Etot", phi_GV).value
        return (out.reshape(np.shape(E.value)) if np.ndim(E.value) else out[0]) * FLUX_UNIT / u.GeV

    def gradient(self, name: str, E: u.Quantity, var: str = "Ekn"):
        """(d ln psi / dr, d ln psi / dz at z = 0+) at the Sun [1/kpc] for a nuclide or element.

        dz is the outward gradient just above the disk of the homogeneous halo profile
        (the source's z_s extent is not included in it; :mod:`crknee.propagation.halo`).
        Energies off the solver grid raise :class:`InputError` (as for the fluxes).
        """
        x = self._values(E, var)
        num_r = np.zeros(x.shape)
        num_z = np.zeros(x.shape)
        den = np.zeros(x.shape)
        grid = np.log(self.raw.ekn)
        q = self._q()
        for i in self._members(name):
            n = self.nuclides[i]
            ekn = from_momentum(momentum_from(x, var, n.Z, n.A, n.mass_GeV), "Ekn", n.Z, n.A, n.mass_GeV)
            self._check_on_grid(ekn)
            psi = np.interp(np.log(ekn), grid, self.raw.psi[i] @ q)
            den += psi
            num_r += np.interp(np.log(ekn), grid, self.raw.dpsi_dr[i] @ q)
            num_z += np.interp(np.log(ekn), grid, self.raw.dpsi_dz[i] @ q)
        shape = np.shape(E.value)
        return ((num_r / den).reshape(shape) / u.kpc, (num_z / den).reshape(shape) / u.kpc)


def solver_inputs(model, network=None, disk=None, loss_rate=None):
    """(network, disk, loss_rate) of ``model`` for :func:`solve_raw`: each one given is kept;
    the network is built from the model's species and cross-section tables, the disk is the
    local thin gas disk with the model's h and He/H, the loss rate is
    :func:`~crknee.propagation.losses.momentum_loss_rate`."""
    if network is None:
        from crknee.propagation.network import build_network

        network = build_network(
            model.species, heaviest=model.heaviest, production=model.production, inelastic=model.inelastic
        )
    if disk is None:
        from crknee.propagation.gas import local_thin_disk

        f = model.floats()
        disk = local_thin_disk(r_kpc=f.r_sun, h_kpc=f.h, he_to_h=f.he_to_h)
    if loss_rate is None:
        from crknee.propagation.losses import momentum_loss_rate as loss_rate
    return network, disk, loss_rate


def solve(model=None, *, network=None, disk=None, loss_rate=None, norms=None) -> Solution:
    """Solve the background model (eq. 1-4) and return the :class:`Solution` at the Sun.

    ``model`` defaults to :class:`~crknee.propagation.model.PropagationModel` () (Table 1).
    ``network`` defaults to :func:`~crknee.propagation.network.build_network` with the
    model's choices; ``disk`` to :func:`~crknee.propagation.gas.local_thin_disk` at r_sun
    with the model's h and He/H; ``loss_rate`` to
    :func:`~crknee.propagation.losses.momentum_loss_rate`.  ``norms`` (Q_g for
    ``GROUPS``, Quantity in cm^-3 GeV^-1 Myr^-1); None fits them by linear least squares
    to the AMS-02 proton and helium spectra (:func:`crknee.propagation.fitting.fit_normalisations`).
    """
    from crknee.propagation.model import PropagationModel

    model = PropagationModel() if model is None else model
    if not isinstance(model, PropagationModel):
        raise InputError(f"model must be a PropagationModel; got {type(model).__name__}")
    network, disk, loss_rate = solver_inputs(model, network, disk, loss_rate)
    raw = solve_raw(model, network, disk, loss_rate)
    unit_norms = np.ones(len(GROUPS)) * Q_UNIT
    sol = Solution(model=model, nuclides=tuple(network.nuclides), raw=raw, norms=unit_norms)
    if norms is None:
        from crknee.propagation.fitting import fit_normalisations

        return sol.with_norms(fit_normalisations(sol).norms)
    return sol.with_norms(norms)

"""The parameters of the propagation fit: names (with their unit suffix), units and meaning.

Priors are declared in the config (``[propagation_fit.parameters]``, defaults with their
references in ``crknee/configs/propagation_fit.toml``) and validated by
:func:`crknee.fit.parameters.parameter_from_config` (a Gaussian prior of zero width, a
min >= max, a value outside [min, max]: one-line :class:`~crknee.errors.ConfigError`
naming the key).
"""

from __future__ import annotations

from crknee.fit.parameters import ParameterSet

#: Elements whose source abundance (relative to O) is a parameter ``a_<X>``.
ABUNDANCE_ELEMENTS = ("C", "N", "Ne", "Mg", "Si", "Fe")
#: Secondary elements with a production cross-section nuisance ``xs_<X>``, ``xs_slope_<X>``.
NUISANCE_ELEMENTS = ("Li", "Be", "B")

#: name -> (unit, meaning), in model order.
PARAMETERS = {
    "D0_1e28_cm2_s": ("1e28 cm2 / s", "diffusion coefficient at R0 = 1 GV (eq. 2)"),
    "delta": ("", "diffusion slope (eq. 2)"),
    "eta": ("", "low-velocity exponent beta^eta (eq. 2)"),
    "vA_km_s": ("km / s", "Alfven speed (reacceleration)"),
    "Vc_km_s": ("km / s", "convection speed"),
    "H_kpc": ("kpc", "halo half height"),
    "Rb_GV": ("GV", "high-rigidity diffusion break (crknee.transport, Genolini et al. 2017)"),
    "Delta_delta": ("", "change of the diffusion slope above R_b (hardening >= 0)"),
    "s_b": ("", "smoothness of the diffusion break"),
    "nu1": ("", "injection index below R_br (eq. 4)"),
    "nu2": ("", "injection index above R_br (eq. 4)"),
    "Rbr_GV": ("GV", "injection break rigidity (eq. 4)"),
    "dnu_H": ("", "proton injection indices minus the common ones (both sides of R_br)"),
    "phi_MV": ("MV", "force-field potential (Gleeson & Axford 1968)"),
    **{f"a_{x}": ("", f"source abundance {x}/O over GALPROP's galdef value") for x in ABUNDANCE_ELEMENTS},
    **{f"xs_{x}": ("", f"normalisation of the production cross sections into {x}") for x in NUISANCE_ELEMENTS},
    **{f"xs_slope_{x}": ("", f"slope s of (Ekn / 10 GeV/n)^s of the production into {x}") for x in NUISANCE_ELEMENTS},
}


def parameter_set(section: dict, where: str = "propagation_fit.parameters") -> ParameterSet:
    """The :class:`ParameterSet` of a ``[propagation_fit.parameters]`` table (every
    parameter of :data:`PARAMETERS` declared, no other)."""
    return ParameterSet.from_config(section, {k: unit for k, (unit, _) in PARAMETERS.items()}, where)

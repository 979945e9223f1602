"""Paper Fig. 3: the proton spectrum at Earth and the microquasars' contributions.

E^2.6-weighted proton flux against total energy: the background (green, solid) and the
local SNR (red, solid) are inputs (arrays or Quantities from crknee.propagation and
crknee.sources.local_snr, so the figure can be drawn before or without them); each
microquasar's protons at Earth (:func:`crknee.gamma.protons_at_earth`) dashed in the
paper's colours (SS 433 blue, V4641 Sgr yellow, GRS 1915+105 black, MAXI J1820+070
brown); data AMS-02, DAMPE, LHAASO, IceTop (paper Fig. 3 caption).  ``bands`` {name:
(lo, hi)} on :data:`E_CURVE` (issue 12, :func:`crknee.gamma.bands.earth_band`) shades each
source's protons over the plausible (n_H a^2, chi, age) box around its dashed
default-configuration line.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

import crknee.data
from crknee.errors import InputError
from crknee.gamma.earth import protons_at_earth
from crknee.gamma.params import SourceParams
from crknee.modulation import PHI_PAPER
from crknee.plots.style import SPECTRUM_WEIGHT, marker, new_figure, save
from crknee.sources.point import FLUX_UNIT

#: Paper Fig. 3 colours of the dashed microquasar curves.
COLOURS = {
    "SS 433": "tab:blue",
    "V4641 Sgr": "gold",
    "GRS 1915+105": "black",
    "MAXI J1820+070": "brown",
    "Cyg X-1": "tab:cyan",
}
#: Datasets of the figure (AMS-02 Aguilar et al. 2015; DAMPE An et al. 2019; LHAASO Cao et
#: al. 2025; IceTop Aartsen et al. 2019).
DATASETS = (
    "proton/AMS02_2015",
    "proton/DAMPE_2019",
    "proton/LHAASO_2025_2505.14447_EPOSLHC",
    "proton/IceTop_IceCube_2019_SIBYLL21",
)
#: Energies of the source curves: 10 GeV - 100 PeV (total energy).
E_CURVE = np.geomspace(10.0, 1e8, 200) * u.GeV


def _curve(name, curve):
    """(E [GeV], J [m^-2 s^-1 sr^-1 GeV^-1]) from a (E, J) pair of Quantities or floats."""
    try:
        E, J = curve
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} curve must be a pair (E, J); got {curve!r}") from exc
    E = E.to_value(u.GeV) if hasattr(E, "unit") else np.asarray(E, dtype=float)
    J = J.to_value(FLUX_UNIT) if hasattr(J, "unit") else np.asarray(J, dtype=float)
    if E.shape != J.shape or E.ndim != 1:
        raise InputError(f"{name} curve: E and J need the same 1-d shape; got {E.shape} and {J.shape}")
    return E, J


def plot_protons(
    sources: dict[str, SourceParams],
    background=None,
    local_snr=None,
    datasets=DATASETS,
    path=None,
    formats=("png", "pdf"),
    diffusion=None,
    phi=PHI_PAPER,
    bands=None,
):
    """Draw Fig. 3.  ``sources``: {name: SourceParams} (fitted or Table 2);
    ``background``, ``local_snr``: optional (E, J) curves, E total energy [GeV or
    Quantity], J [m^-2 s^-1 sr^-1 GeV^-1 or Quantity]; ``diffusion`` (the background's
    :class:`crknee.transport.Diffusion`, default eq. 2 with Table 1) and ``phi`` propagate
    the microquasars' protons in the same environment.  Returns the figure or paths."""
    w = SPECTRUM_WEIGHT
    fig, ax = new_figure(7.5, 5.2)
    given = {}
    for name, curve, colour in (("background", background, "green"), ("local SNR", local_snr, "red")):
        if curve is not None:
            E, J = given[name] = _curve(name, curve)
            ax.plot(E, E**w * J, color=colour, label=name)
    if len(given) == 2 and np.array_equal(given["background"][0], given["local SNR"][0]):
        E = given["background"][0]
        ax.plot(
            E,
            E**w * (given["background"][1] + given["local SNR"][1]),
            color="grey",
            lw=0.8,
            label="background + local SNR",
        )
    Ec = E_CURVE.to_value(u.GeV)
    for name, p in sources.items():
        J, valid = protons_at_earth(p, E_CURVE, diffusion, phi)
        J = J.to_value(FLUX_UNIT)
        colour = COLOURS.get(name, "purple")
        ax.plot(
            Ec,
            np.where(J > 0, Ec**w * J, np.nan),
            ls="--",
            color=colour,
            label=f"{name}" + ("" if np.all(valid) else " (diffusion not valid: c t < 10 d)"),
        )
        if bands and name in bands:
            lo, hi = (np.asarray(b.to_value(FLUX_UNIT) if hasattr(b, "unit") else b, dtype=float) for b in bands[name])
            ax.fill_between(
                Ec,
                np.maximum(Ec**w * lo, 1e-30),
                np.maximum(Ec**w * hi, 1e-30),
                color=colour,
                alpha=0.2,
                lw=0,
                label=f"{name}: plausible (n_H a^2, chi, age)",
            )
    for i, ds in enumerate(datasets):
        t = crknee.data.to_variable(crknee.data.load(ds), "Etot")
        x = t["x"].to_value(u.GeV)
        y, lo, hi = (t[c].to_value(FLUX_UNIT) * x**w for c in ("y", "y_err_lo", "y_err_hi"))
        ax.errorbar(x, y, yerr=[lo, hi], marker=marker(i), ls="none", ms=3, label=t.meta.get("experiment", ds))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(10.0, 1e8)
    ax.set_ylim(1e-1, 1e5)
    ax.set_xlabel("total energy E [GeV]")
    ax.set_ylabel(f"E^{w:g} J(E) [GeV^{w - 1:g} m^-2 s^-1 sr^-1]")
    ax.legend(fontsize=6, loc="lower left", ncol=2)
    return fig if path is None else save(fig, path, formats)

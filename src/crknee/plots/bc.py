"""Paper Fig. 1: the B/C ratio of the background model against AMS-02, PAMELA and DAMPE.

Model at Earth (force field, phi = 550 MV; black solid) and without modulation (red
dashed), versus kinetic energy per nucleon.  The data are the bundled per-Ekn tables
(AMS-02 Ekn version of Aguilar et al. 2016 PRL 117, 231102 via CRDB; PAMELA Adriani
et al. 2014 ApJ 791, 93; DAMPE 2022 Sci. Bull. 67, 2162), errors stat (+) sys.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

from crknee.modulation import PHI_PAPER
from crknee.plots.style import marker, new_figure, save

#: Datasets of Fig. 1 (all with x = Ekn).
FIG1_DATA = ("bc/AMS02_2016_Ekn", "bc/PAMELA_2014_Ekn", "bc/DAMPE_2022")


def plot_bc(solution, path, phi=PHI_PAPER, datasets=FIG1_DATA, formats=None):
    """Draw Fig. 1 for ``solution`` (a :class:`crknee.propagation.Solution`) into ``path``.

    Returns the written paths (:func:`crknee.plots.style.save`).
    """
    from crknee.data import load

    lo = max(0.1, solution.raw.ekn[0] * 1.001)
    ekn = np.geomspace(lo, min(1e4, solution.raw.ekn[-1] / 2), 200) * u.GeV
    fig, ax = new_figure()
    ax.plot(
        ekn,
        solution.ratio("B", "C", ekn, "Ekn", "earth", phi),
        "k-",
        label=f"model, $\\phi$ = {phi.to_value(u.MV):.0f} MV",
    )
    ax.plot(ekn, solution.ratio("B", "C", ekn, "Ekn", "lis"), "r--", label="model, LIS")
    for i, name in enumerate(datasets):
        t = load(name)
        ax.errorbar(
            t["x"].to_value(u.GeV),
            t["y"].value,
            yerr=[t["y_err_lo"].value, t["y_err_hi"].value],
            fmt=marker(i),
            ms=4,
            ls="none",
            label=t.meta.get("experiment", name),
        )
    ax.set_xscale("log")
    ax.set_xlabel(r"$E_k$ [GeV/n]")
    ax.set_ylabel("B/C")
    ax.set_xlim(ekn[0].value, ekn[-1].value)
    ax.set_ylim(0.0, 0.45)
    ax.legend(fontsize=8)
    return save(fig, path, formats)

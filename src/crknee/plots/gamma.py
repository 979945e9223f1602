"""Paper Fig. 2: hadronic gamma-ray SEDs of the four LHAASO microquasars.

One panel per source: the model (16-84 % band of the posterior and the best fit, from
:func:`crknee.gamma.sed_band`) and every SED dataset of the source (LHAASO filled, other
experiments open).  Sources with no bundled points show Table 2's model, labelled
"paper parameters, not refitted".  Optional (issue 12): ``envelopes`` {name: (lo, hi)},
the best-fit hadronic SEDs over the plausible (chi, age) box of
:func:`crknee.gamma.bands.sed_envelope` (hatched), and ``leptonic`` {name:
LeptonicResult}, the inverse-Compton alternative (dashed red).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np

import crknee.data
from crknee.gamma.fit import LABEL_FIT, SED_UNIT, FitResult, sed_band
from crknee.plots.style import marker, new_figure, save

#: Photon energies of the model curves: 0.1 TeV - 3 PeV.
E_MODEL = np.geomspace(1e2, 3e6, 120) * u.GeV


def plot_gamma(results: dict[str, FitResult], path=None, formats=("png", "pdf"), envelopes=None, leptonic=None):
    """Draw Fig. 2 from ``results`` ({source name: FitResult}, e.g.
    :func:`crknee.gamma.analyse_all`), with the optional ``envelopes`` and ``leptonic``
    curves (module docstring).  Returns the figure, or the paths written."""
    envelopes, leptonic = envelopes or {}, leptonic or {}
    n = len(results)
    ncol = 2 if n > 1 else 1
    nrow = int(np.ceil(n / ncol))
    fig, axes = new_figure(5.2 * ncol, 4.0 * nrow, nrows=nrow, ncols=ncol, squeeze=False)
    E_TeV = E_MODEL.to_value(u.TeV)
    for ax, (name, res) in zip(axes.ravel(), results.items()):
        lo, best, hi = (b.to_value(SED_UNIT) for b in sed_band(res, E_MODEL))
        ax.fill_between(E_TeV, lo, hi, color="tab:blue", alpha=0.3, lw=0)
        ax.plot(
            E_TeV,
            best,
            color="tab:blue",
            label=f"pp model: beta={res.params.beta:.2f}, L0={res.params.L0_erg_s:.2g} erg/s ({res.label})",
        )
        if name in envelopes:
            elo, ehi = (b.to_value(SED_UNIT) for b in envelopes[name])
            ax.fill_between(
                E_TeV,
                elo,
                ehi,
                color="tab:cyan",
                alpha=0.25,
                lw=0.8,
                ls=":",
                edgecolor="tab:blue",
                label=("pp best fits" if res.label == LABEL_FIT else "Table 2 (beta, L0)")
                + " over the plausible (chi, age) box",
            )
        if name in leptonic:
            lep = leptonic[name]
            ax.plot(
                E_TeV,
                lep.sed(E_MODEL).to_value(SED_UNIT),
                color="tab:red",
                ls="--",
                label=f"IC (CMB+dust+starlight): alpha={lep.alpha:.2f}, Ecut={lep.Ecut_TeV:.3g} TeV, "
                f"chi2={lep.chi2:.1f}",
            )
        tables = [crknee.data.load(ds) for ds in res.datasets]
        for i, table in enumerate(tables):
            _points(ax, table, i)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ymax = max(
            [np.max(best)]
            + [np.max(t["y"].to_value(SED_UNIT)) for t in tables]
            + ([np.max(envelopes[name][1].to_value(SED_UNIT))] if name in envelopes and not tables else [])
        )
        ax.set_ylim(ymax * 1e-3, ymax * 5.0)
        ax.set_title(name)
        ax.set_xlabel("E [TeV]")
        ax.set_ylabel("E^2 dN/dE [erg cm^-2 s^-1]")
        ax.legend(fontsize=6, loc="lower left")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig if path is None else save(fig, path, formats)


def _points(ax, table, i):
    x = table["x"].to_value(u.TeV)
    y = table["y"].to_value(SED_UNIT)
    lo = np.nan_to_num(table["y_err_lo"].to_value(SED_UNIT))
    hi = np.nan_to_num(table["y_err_hi"].to_value(SED_UNIT))
    ul = np.asarray(table["upper_limit"], dtype=bool)
    lhaaso = "LHAASO" in str(table.meta.get("experiment", ""))
    label = table.meta.get("name", "?").partition("/")[2]
    kw = dict(marker=marker(i), ls="none", ms=4, color="k" if lhaaso else f"C{i + 1}", mfc="k" if lhaaso else "none")
    ax.errorbar(x[~ul], y[~ul], yerr=[lo[~ul], hi[~ul]], label=label, **kw)
    if np.any(ul):
        ax.errorbar(x[ul], y[ul], yerr=0.4 * y[ul], uplims=True, **kw)

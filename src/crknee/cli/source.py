"""``crknee source``: flux at Earth and dipole anisotropy of one point source."""

from __future__ import annotations

import warnings

import astropy.units as u
import click
import numpy as np
from astropy.table import Table

from crknee.anisotropy import equatorial
from crknee.cli import cli, plot_group
from crknee.errors import InputError
from crknee.io import atomic_write_table
from crknee.sources.point import FLUX_UNIT, PointSource, ValidityWarning

#: Cap of ``--n``: 1e5 energies already resolve any spectral feature and bound time and memory.
MAX_ENERGIES = 100_000


@cli.command("source")
@click.option("--l", "l_deg", type=float, required=True, help="Galactic longitude [deg].")
@click.option("--b", "b_deg", type=float, required=True, help="Galactic latitude [deg].")
@click.option("--distance", type=float, required=True, help="Distance [kpc].")
@click.option("--age", type=float, required=True, help="Age [Myr] (time since the burst / switch-on).")
@click.option("--beta", type=float, required=True, help="Injection index of eq. (5).")
@click.option("--rcut", type=float, required=True, help="Cutoff rigidity [PV].")
@click.option("--energy", type=float, default=None, help="Burst energy above 1 GeV [erg].")
@click.option("--luminosity", type=float, default=None, help="Luminosity above 1 GeV [erg/s] (with --continuous).")
@click.option("--continuous", is_flag=True, help="Continuous injection since --age instead of a burst.")
@click.option("--halo", type=float, default=None, help="Halo half-height [kpc] (image method); default free space.")
@click.option("--emin", type=float, default=1e2, show_default=True, help="Lowest total energy per particle [GeV].")
@click.option("--emax", type=float, default=1e9, show_default=True, help="Highest total energy per particle [GeV].")
@click.option(
    "--n",
    "n_points",
    type=click.IntRange(2, MAX_ENERGIES),
    default=71,
    show_default=True,
    help=f"Number of log-spaced energies (2 to {MAX_ENERGIES}).",
)
@click.option(
    "--background",
    is_flag=True,
    help="Also write the totals with the background (crknee.propagation.solve(), Table 1 model).",
)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Output ECSV file.")
def source(
    l_deg, b_deg, distance, age, beta, rcut, energy, luminosity, continuous, halo, emin, emax, n_points, background, out
):
    """Proton flux at Earth, |delta|, equatorial amplitude and RA phase of one source.

    The source's dipole uses its proton flux (its composition is protons); with
    --background the total dipole adds the background's all-particle flux and dipole.
    """
    if continuous and luminosity is None:
        raise InputError("--continuous needs --luminosity ERG_S")
    if not continuous and energy is None:
        raise InputError("a burst needs --energy ERG (or use --continuous --luminosity)")
    if continuous and energy is not None:
        raise InputError(f"--energy {energy:g} is for a burst; continuous injection takes --luminosity only")
    if not continuous and luminosity is not None:
        raise InputError(f"--luminosity {luminosity:g} needs --continuous (a burst takes --energy)")
    if not (0 < emin < emax) or n_points < 2:
        raise InputError(f"need 0 < emin < emax and n >= 2; got emin={emin!r}, emax={emax!r}, n={n_points!r}")
    src = PointSource(
        "cli",
        l_deg,
        b_deg,
        distance,
        age,
        beta,
        rcut * 1e6,
        energy_erg=None if continuous else energy,
        luminosity_erg_s=luminosity if continuous else None,
        mode="continuous" if continuous else "burst",
        halo_kpc=halo,
    )
    E = np.geomspace(emin, emax, n_points) * u.GeV
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ValidityWarning)
        flux = src.flux("H1", E)
        _, dip, valid = src.evaluate(E.to_value(u.GeV), "H1")
    amp, ra = equatorial(dip)
    table = Table(
        {
            "E": E,
            "proton_flux": flux,
            "delta": np.linalg.norm(dip, axis=-1),
            "amplitude_eq": amp,
            "phase_ra": ra * u.deg,
            "valid": valid,
        }
    )
    if background:
        from crknee.anisotropy import combine, solution_dipole
        from crknee.propagation.solution import solve

        solution = solve()
        J_bg, d_bg = solution_dipole(solution, E.to_value(u.GeV))
        J_src = src.lis("H1", E).to_value(FLUX_UNIT)
        _, d_tot = combine([J_bg, J_src], [d_bg, dip])
        amp_t, ra_t = equatorial(d_tot)
        table["proton_flux_total"] = flux + solution.earth("H", E, "Etot")
        table["amplitude_eq_total"] = amp_t
        table["phase_ra_total"] = ra_t * u.deg
    table.meta.update(
        {
            "source": {
                "l_deg": l_deg,
                "b_deg": b_deg,
                "d_kpc": distance,
                "age_Myr": age,
                "beta": beta,
                "Rcut_PV": rcut,
                "mode": src.mode,
                "energy_erg": energy,
                "luminosity_erg_s": luminosity,
                "halo_kpc": halo,
            },
            "columns": "E: total energy per particle; proton_flux: force-field modulated (550 MV); "
            "delta: source dipole alone; valid: diffusive regime (c t >= 10 d, 3D/c <= d)",
        }
    )
    atomic_write_table(table, out)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    click.echo(f"wrote {out} ({n_points} energies, {int(np.count_nonzero(~valid))} flagged invalid)")


#: The paper's best-fit knee source (Sec. 3): l = 337.4 deg, d = 2.64 kpc, t = 4.82 Myr;
#: b is only bounded (|b| < 5 deg) and taken as 0.
PAPER_KNEE = {"l_deg": 337.4, "b_deg": 0.0, "d_kpc": 2.64, "age_Myr": 4.82}


@plot_group().command("anisotropy")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option(
    "--knee-beta",
    type=float,
    default=2.2,
    show_default=True,
    help="Knee-source index (default: V4641 Sgr's, paper Table 2; replace with the MCMC fit).",
)
@click.option("--knee-rcut", type=float, default=5.0, show_default=True, help="Knee-source cutoff [PV].")
@click.option("--knee-energy", type=float, default=1e50, show_default=True, help="Knee-source burst energy [erg].")
@click.option("--snr-beta", type=float, default=2.1, show_default=True, help="Local SNR index.")
@click.option(
    "--snr-rcut",
    type=float,
    default=20.0,
    show_default=True,
    help="Local SNR cutoff [TV] (the ~14 TeV softening, paper Sec. 2.2).",
)
@click.option("--snr-energy", type=float, default=1e49, show_default=True, help="Local SNR burst energy [erg].")
@click.option(
    "--background/--no-background",
    default=True,
    show_default=True,
    help="Add the background (crknee.propagation.solve(), Table 1 model; radial gradient).",
)
@click.option(
    "--fit-snr/--no-fit-snr",
    default=True,
    show_default=True,
    help="Fit the local SNR to AMS-02 + DAMPE protons over the background (needs --background); "
    "otherwise use the --snr-* options.",
)
@click.option(
    "--field-ratio",
    type=float,
    default=0.0,
    show_default=True,
    help="D_perp/D_par of the field-aligned panel (0: pure projection on the IBEX field direction).",
)
def plot_anisotropy_cmd(
    out_dir, knee_beta, knee_rcut, knee_energy, snr_beta, snr_rcut, snr_energy, background, fit_snr, field_ratio
):
    """Anisotropy phase and amplitude (paper Figs 4 and 5) from 100 GeV to 10 EeV: every bundled
    experiment, background, sources and total, for isotropic diffusion beside the field-aligned dipole."""
    from crknee.anisotropy.field import FieldAlignment
    from crknee.plots.anisotropy import Component, plot_anisotropy
    from crknee.sources.catalogue import LOCAL_SNR, NAMED_SOURCES
    from crknee.sources.injection import galprop_composition

    if fit_snr and not background:
        raise InputError("--fit-snr needs --background (the fit is made over the background); use --no-fit-snr")
    field = FieldAlignment(ratio=field_ratio)
    comp = galprop_composition()
    snr = NAMED_SOURCES[LOCAL_SNR]
    local = PointSource(
        snr.name,
        snr.l_deg,
        snr.b_deg,
        snr.d_kpc,
        snr.age_Myr,
        snr_beta,
        snr_rcut * 1e3,
        energy_erg=snr_energy,
        composition=comp,
    )
    E = np.geomspace(1e2, 1e10, 161)
    components = []
    if background:
        from crknee.anisotropy import solution_dipole
        from crknee.propagation.solution import solve

        solution = solve()
        J_bg, d_bg = solution_dipole(solution, E)
        components.append(Component("background", J_bg, d_bg))
        if fit_snr:
            from crknee.sources.local_snr import fit_local_snr, proton_data

            # fit with the composition plotted: W is the energy summed over species, so
            # swapping the composition after a proton-only fit would lower the protons
            Ep, yp, sp = proton_data()
            fit = fit_local_snr(Ep, yp, sp, lambda x: solution.earth("H", x * u.GeV, "Etot"), composition=comp)
            local = fit.source
            click.echo(
                f"local SNR fit: chi2/ndof = {fit.chi2:.1f}/{fit.ndof}, W = {local.energy_erg:.3g} erg, "
                f"beta = {local.beta:.3f}, Rcut = {local.Rcut_GV:.3g} GV, d = {local.d_kpc:.3f} kpc, "
                f"t = {local.age_Myr:.3f} Myr"
            )
    sources = [
        (
            "knee source",
            PointSource(
                "knee source",
                **PAPER_KNEE,
                beta=knee_beta,
                Rcut_GV=knee_rcut * 1e6,
                energy_erg=knee_energy,
                composition=comp,
            ),
        ),
        ("local SNR (Geminga)", local),
    ]
    for label, s in sources:
        J, dip, ok = s.evaluate(E)
        components.append(Component(label, J, dip, ok))
    modes = {
        "isotropic diffusion (paper)": None,
        f"field-aligned (IBEX), D_perp/D_par = {field.ratio:g}": field.project,
    }
    for path in plot_anisotropy(out_dir, E, components, modes=modes):
        click.echo(f"wrote {path}")

"""The named sources of the paper, with literature positions, distances and ages.

Positions (Galactic l, b in deg) are those of the bundled X-ray binary catalogues
(crknee data ``catalog/*``, computed there from the published ICRS coordinates); distances
are the cited measurements.  Ages: 20 kyr for SS 433 (the LHAASO value adopted by the
paper, Cao et al. 2025, NSR 12, nwaf496) and the "typical" 1 Myr for the other binaries
(paper Sec. 3, after Ohmura et al. 2021, ApJ 910, 149).  Spectra and luminosities are
the paper's Table 2 (continuous injection); Cyg X-1 has no Table 2 entry and carries no
spectrum (the paper discusses it qualitatively: Nie et al. 2024, ApJ 974, 276).

The local SNR (paper Sec. 2.2: a nearby SNR in the anti-Galactic-centre direction that
makes the ~200 GeV hardening and ~14 TeV softening of protons) is identified here with
the supernova that gave birth to the Geminga pulsar (PSR J0633+1746), 0.25 kpc away
at l ~ 195 deg (anti-centre hemisphere).  crknee takes the position of the pulsar
(ATNF catalogue, Manchester et al. 2005, AJ 129, 1993:
RA 06h33m54.15s, Dec +17d46m12.9s -> l = 195.134, b = +4.266), distance
250 (+120, -62) pc (parallax, Faherty, Walter & Anderson 2007, Ap&SS 308, 225), age =
characteristic age P / (2 Pdot) = 342 kyr (ATNF).  Its spectrum comes from
:func:`crknee.sources.local_snr.fit_local_snr`.
"""

from __future__ import annotations

from dataclasses import dataclass

from crknee.errors import InputError
from crknee.sources.point import PointSource
from crknee.units import convert_fields


@dataclass(frozen=True)
class CatalogueEntry:
    """A named source: position [deg], distance [kpc] with its range, age [Myr], references
    (Quantities or floats in those units)."""

    name: str
    l_deg: float
    b_deg: float
    d_kpc: float
    d_lo_kpc: float
    d_hi_kpc: float
    age_Myr: float
    position_ref: str
    distance_ref: str
    beta: float | None = None
    luminosity_erg_s: float | None = None

    #: Documented unit of each dimensional field (a Quantity is converted to it).
    UNITS = {
        "l_deg": "deg",
        "b_deg": "deg",
        "d_kpc": "kpc",
        "d_lo_kpc": "kpc",
        "d_hi_kpc": "kpc",
        "age_Myr": "Myr",
        "beta": "",
        "luminosity_erg_s": "erg / s",
    }

    def __post_init__(self):
        convert_fields(self, self.UNITS)

    def source(self, **overrides) -> PointSource:
        """A continuous PointSource with the Table 2 spectrum (``overrides`` replace any
        PointSource field, e.g. ``Rcut_GV``, ``luminosity_erg_s``, ``mode``)."""
        fields = dict(
            name=self.name,
            l_deg=self.l_deg,
            b_deg=self.b_deg,
            d_kpc=self.d_kpc,
            age_Myr=self.age_Myr,
            beta=self.beta,
            Rcut_GV=PAPER_MQ_RCUT_GV,
            luminosity_erg_s=self.luminosity_erg_s,
            mode="continuous",
        )
        fields.update(overrides)
        if fields["beta"] is None or (fields["mode"] == "continuous" and fields["luminosity_erg_s"] is None):
            raise InputError(f"{self.name!r} has no spectrum in the paper's Table 2; pass beta= and luminosity_erg_s=")
        return PointSource(**fields)


#: Cutoff rigidity [GV] of the microquasars' injection: the paper's Table 2 gives none;
#: the sources are PeVatrons (>100 TeV photons, Cao et al. 2025), so crknee uses 10 PV,
#: the scale of the proton knee source (paper Fig. 7, break rigidity in PV).
PAPER_MQ_RCUT_GV = 1.0e7

_NEU = "Neumann et al. 2023, A&A 677, A134 (bundled catalog/HMXB_Neumann2023)"
_LIU = "Liu et al. 2007, A&A 469, 807 (bundled catalog/LMXB_Liu2007)"
_SXO = "Gaia/Chandra position of the ScorpionesXone 2021 LMXB compilation (bundled)"

NAMED_SOURCES: dict[str, CatalogueEntry] = {
    e.name: e
    for e in (
        CatalogueEntry(
            "SS 433",
            39.694079,
            -2.244596,
            5.5,
            5.3,
            5.7,
            0.020,
            _NEU,
            "Blundell & Bowler 2004, ApJ 616, L159 (5.5 +- 0.2 kpc)",
            2.5,
            2.0e39,
        ),
        CatalogueEntry(
            "V4641 Sgr",
            6.773959,
            -4.789071,
            6.2,
            5.5,
            6.9,
            1.0,
            _SXO,
            "MacDonald et al. 2014, ApJ 784, 2 (6.2 +- 0.7 kpc)",
            2.2,
            5.0e38,
        ),
        CatalogueEntry(
            "GRS 1915+105",
            45.36574,
            -0.21909,
            8.6,
            7.0,
            10.6,
            1.0,
            _LIU,
            "Reid et al. 2014, ApJ 796, 2 (8.6 +2.0 -1.6 kpc)",
            2.5,
            1.5e39,
        ),
        CatalogueEntry(
            "MAXI J1820+070",
            35.853547,
            10.159159,
            2.96,
            2.63,
            3.29,
            1.0,
            _SXO,
            "Atri et al. 2020, MNRAS 493, L81 (2.96 +- 0.33 kpc)",
            2.5,
            1.0e38,
        ),
        CatalogueEntry(
            "Cyg X-1",
            71.334965,
            3.066834,
            2.22,
            2.05,
            2.40,
            1.0,
            _NEU,
            "Miller-Jones et al. 2021, Science 371, 1046 (2.22 +0.18 -0.17 kpc)",
        ),
        CatalogueEntry(
            "Geminga SNR",
            195.134,
            4.266,
            0.250,
            0.188,
            0.370,
            0.342,
            "ATNF pulsar catalogue, Manchester et al. 2005, AJ 129, 1993 (PSR J0633+1746)",
            "Faherty, Walter & Anderson 2007, Ap&SS 308, 225 (250 +120 -62 pc)",
        ),
    )
}
#: Name of the catalogue entry used as the paper's local SNR.
LOCAL_SNR = "Geminga SNR"


def named_source(name: str, **overrides) -> PointSource:
    """PointSource of catalogue entry ``name`` (see :meth:`CatalogueEntry.source`)."""
    if name not in NAMED_SOURCES:
        raise InputError(f"unknown named source {name!r}; known: {sorted(NAMED_SOURCES)}")
    return NAMED_SOURCES[name].source(**overrides)


__all__ = ["CatalogueEntry", "NAMED_SOURCES", "LOCAL_SNR", "PAPER_MQ_RCUT_GV", "named_source"]

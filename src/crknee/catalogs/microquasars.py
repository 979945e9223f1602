"""Positions of the five LHAASO microquasars of Fig. 10.

Each is matched by name or alternative name (crknee.catalogs.binaries.MICROQUASARS) in
the merged binary table, which gives its position and, when the catalogue has one, its
distance (median of the catalogue interval).  The bundled LMXB catalogues give no
distances, so GRS 1915+105, V4641 Sgr and MAXI J1820+070 take the cited literature
distance of ``crknee.sources.catalogue.NAMED_SOURCES`` (Reid et al. 2014; MacDonald et
al. 2014; Atri et al. 2020), as does a microquasar absent from the selected catalogues
(its position then comes from there too).  Column ``distance_ref`` says which was used.
"""

from __future__ import annotations

import astropy.units as u
from astropy.table import QTable

from crknee.catalogs.binaries import MICROQUASARS
from crknee.catalogs.distances import median_kpc


def microquasar_positions(binaries: QTable) -> QTable:
    """One row per microquasar (paper order): name, l, b, distance [kpc], ``catalog``
    (where its position was found: a catalogue or "crknee.sources.catalogue") and
    ``distance_ref``."""
    from crknee.sources.catalogue import NAMED_SOURCES

    names, ls, bs, ds, cats, refs = [], [], [], [], [], []
    for mq in MICROQUASARS:
        rows = binaries[binaries["microquasar"] == mq]
        named = NAMED_SOURCES[mq]
        names.append(mq)
        if len(rows) == 0:
            ls.append(named.l_deg), bs.append(named.b_deg), cats.append("crknee.sources.catalogue")
            ds.append(named.d_kpc), refs.append(named.distance_ref)
            continue
        row = rows[0]
        ls.append(row["l"].to_value(u.deg))
        bs.append(row["b"].to_value(u.deg))
        cats.append(row["catalog"])
        d = float(median_kpc(*(row[c].to_value(u.kpc) for c in ("distance", "distance_lo", "distance_hi"))))
        if d == d:
            ds.append(d), refs.append(str(row["distance_catalog"]))
        else:
            ds.append(named.d_kpc), refs.append(named.distance_ref)
    return QTable(
        {"name": names, "l": ls * u.deg, "b": bs * u.deg, "distance": ds * u.kpc, "catalog": cats, "distance_ref": refs}
    )

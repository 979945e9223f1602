"""Physical constants and unit factors of crknee's hot loops, once, from astropy.

Hot loops work in plain floats (GeV, GV, kpc, Myr, cm, s, mb, erg); every factor that
converts between those units is defined here from astropy's CODATA constants and IAU
units, so that no module carries its own copy.
"""

import astropy.units as u
from astropy.constants import c, m_p

#: Speed of light [cm/s].
C_CM_S = c.to_value(u.cm / u.s)
#: Speed of light [cm/Myr].
C_CM_MYR = c.to_value(u.cm / u.Myr)
#: Speed of light [kpc/Myr].
C_KPC_MYR = c.to_value(u.kpc / u.Myr)
#: 1 kpc in cm.
KPC_CM = (1.0 * u.kpc).to_value(u.cm)
#: 1 cm in kpc.
KPC_PER_CM = 1.0 / KPC_CM
#: 1 mb in cm^2.
MB_CM2 = 1e-27
#: 1 GeV in erg.
ERG_PER_GEV = (1.0 * u.GeV).to_value(u.erg)
#: 1 erg in GeV.
GEV_PER_ERG = 1.0 / ERG_PER_GEV
#: Seconds per Myr (Julian years, IAU).
S_PER_MYR = (1.0 * u.Myr).to_value(u.s)
#: km/s in kpc/Myr.
KM_S_KPC_MYR = (1.0 * u.km / u.s).to_value(u.kpc / u.Myr)
#: Proton rest energy m_p c^2 [GeV].
M_P_GEV = (m_p * c**2).to_value(u.GeV)

"""Field-aligned dipole: anisotropic diffusion along the local interstellar magnetic field.

Within a cosmic ray's scattering length of the Sun the magnetic field has an ordered
component; diffusion along it (D_par) is much faster than across it (D_perp).  With the
diffusion tensor D_ij = D_perp delta_ij + (D_par - D_perp) b_i b_j, Fick's law gives the
dipole 3 D_ij grad_j psi / (c psi).  The isotropic model (the paper's) uses one scalar D
for the density; keeping that density and replacing the scalar by the tensor, with D_par
equal to the isotropic D, the observed dipole is the projection

    delta_obs = (b b^T + r (1 - b b^T)) delta_iso,        r = D_perp / D_par in [0, 1]

(Mertsch & Funk 2015, PRL 114, 021101: the dipole is suppressed when the field and the
gradient are nearly perpendicular and need not point along the gradient; Ahlers 2016,
PRL 117, 151103: with "a strong ordered magnetic field in our local environment" the
dipole is the projection (b . delta) b onto the field, the limit r -> 0).  ``r = 1`` is
isotropic diffusion, the paper's mode.  The
field is an axis: b and -b give the same projection, so the observed RA phase follows the
field's RA or its opposite, whichever side the gradient points to.

Convention (crknee's choice, stated because the papers' normalisation could not be read
here): D_par equals the isotropic D of the model, so a dipole along the field is unchanged;
another normalisation would rescale every amplitude by one constant.  The density is left
as the isotropic model gives it: the projection acts only on the local streaming.

Default direction: the centre of the IBEX ribbon of energetic neutral atoms, taken to be
the direction of the local interstellar field (the ribbon forms where B . r = 0), at
ecliptic (J2000) (lambda, beta) = (219.2 +- 1.3, 39.9 +- 2.3) deg (Funsten et al. 2013,
ApJ 776, 30, abstract; the same centre is quoted in A&A 586, A31 (2016), sec. 1,
doi:10.1051/0004-6361/201527437).
Converted to Galactic coordinates with astropy (``BarycentricMeanEcliptic(equinox=J2000)``
-> ``Galactic``): (l, b) = (34.68, 56.61) deg, i.e. the axis through (214.68, -56.61) deg.
The Galactic numbers quoted in Ahlers 2016 and Mertsch & Funk 2015 could not be read from
a stored copy of those papers (only their abstracts are reachable), so crknee converts the
published ecliptic centre itself; the test suite checks the conversion.  The axis lies
at RA 229.7 deg, Dec 23.3 deg; HAWC + IceCube infer the local field at RA 229.2 +- 3.5 deg,
Dec 11.4 +- 3.0 deg from the 10 TeV anisotropy (HAWC & IceCube 2019, ApJ 871, 96,
abstract), a consistent direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crknee.anisotropy.dipole import unit_vector
from crknee.errors import InputError
from crknee.units import value_in

#: Centre of the IBEX ribbon, ecliptic J2000 longitude and latitude [deg] (Funsten et al.
#: 2013, ApJ 776, 30, abstract: (219.2 +- 1.3, 39.9 +- 2.3) deg).
IBEX_RIBBON_CENTRE_ECLIPTIC_DEG = (219.2, 39.9)
#: :data:`IBEX_RIBBON_CENTRE_ECLIPTIC_DEG` in Galactic (l, b) [deg] (astropy conversion,
#: checked by tests/test_anisotropy_field.py).
IBEX_RIBBON_CENTRE_GALACTIC_DEG = (34.680407, 56.605633)


@dataclass(frozen=True)
class FieldAlignment:
    """Dipole projected on the local magnetic field (Mertsch & Funk 2015; Ahlers 2016).

    ``l_deg``, ``b_deg``: Galactic direction of the field axis [deg, or angle Quantities];
    ``ratio``: D_perp / D_par in [0, 1] (1: isotropic diffusion, the identity; 0, the
    default: the strong-ordered-field limit of Ahlers 2016, pure projection on the field).
    Default direction: the IBEX ribbon centre (module docstring).
    """

    l_deg: float = IBEX_RIBBON_CENTRE_GALACTIC_DEG[0]
    b_deg: float = IBEX_RIBBON_CENTRE_GALACTIC_DEG[1]
    ratio: float = 0.0

    def __post_init__(self):
        l = value_in("field longitude l_deg", self.l_deg, "deg")
        b = value_in("field latitude b_deg", self.b_deg, "deg")
        if abs(b) > 90.0:
            raise InputError(f"field latitude b must lie in [-90, 90] deg; got {self.b_deg!r}")
        r = value_in("diffusion ratio D_perp/D_par", self.ratio, "")
        if not (0.0 <= r <= 1.0):
            raise InputError(f"diffusion ratio D_perp/D_par must lie in [0, 1]; got {self.ratio!r}")
        object.__setattr__(self, "l_deg", l)
        object.__setattr__(self, "b_deg", b)
        object.__setattr__(self, "ratio", r)

    @property
    def axis(self) -> np.ndarray:
        """Unit vector b of the field (Galactic Cartesian); -b is the same axis."""
        return unit_vector(self.l_deg, self.b_deg)

    @property
    def matrix(self) -> np.ndarray:
        """3x3 symmetric projector P = b b^T + ratio (1 - b b^T)."""
        b = self.axis
        bb = np.outer(b, b)
        return bb + self.ratio * (np.eye(3) - bb)

    def project(self, dipole_xyz_gal) -> np.ndarray:
        """Observed dipole(s) (..., 3) from isotropic-diffusion dipole(s) (..., 3), Galactic
        Cartesian: (b b^T + ratio (1 - b b^T)) . delta (NaN stays NaN)."""
        v = np.asarray(dipole_xyz_gal, dtype=float)
        if v.shape[-1:] != (3,):
            raise InputError(f"dipole vectors need a last axis of length 3; got shape {v.shape}")
        return v @ self.matrix  # P is symmetric


#: The default field-aligned mode: field along the IBEX ribbon centre, D_perp/D_par -> 0.
IBEX_FIELD = FieldAlignment()

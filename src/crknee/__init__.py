"""crknee: the origin of the cosmic-ray knee.

A toolkit that reproduces and extends Nie, Yue, Guo & Liu, "A Multi-messenger Search
for a Nearby Microquasar Contributor to the Cosmic Ray Knee": Galactic propagation of
the supernova-remnant background (eq. 1-4), point sources (eq. 5-6), hadronic gamma
rays of the LHAASO microquasars, the dipole anisotropy, an MCMC search for the knee
source and the cross-match with X-ray binary catalogues.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crknee")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from crknee.errors import CrkneeError  # noqa: E402

__all__ = ["__version__", "CrkneeError"]

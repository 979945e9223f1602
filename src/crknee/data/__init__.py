"""Observational data with provenance: cosmic-ray spectra, element spectra (``nuclei``), B/C and
the other element ratios (``ratio``), the mean log mass ``lnA``, dipole anisotropy,
gamma-ray SEDs of microquasars, X-ray binary catalogues, and the solver's raw tables.

``names(quantity=None, pattern=None)`` lists datasets ``<quantity>/<stem>`` (``pattern``: a
shell-style pattern such as ``"anisotropy/CRDB_*"``); ``load(name, errors)``
returns a QTable in crknee units whose ``meta`` holds the provenance (experiment,
reference, origin, licence, ...); ``to_variable(table, var, species)`` moves a spectrum
onto one energy axis; ``raw_path(relpath)`` locates bundled solver tables;
``add(path, quantity)`` validates and stores a user dataset; ``check_independent(names)``
refuses two datasets holding the same measurement (``meta["duplicate_of"]``);
``anisotropy_compilation()`` names the world's anisotropy data, each measurement once;
``ratio_names(numerator, denominator)`` names the ratio datasets of two elements (B/C included).
Format: docs/data.md;
every bundled dataset with its reference: DATA.md beside this file.
"""

from crknee.data.schema import FLUXES, QUANTITIES, RATIOS, SPECTRA, conversion_nuclide
from crknee.data.store import names, raw_path, user_dir, verify_manifest
from crknee.data.tables import anisotropy_compilation, check_independent, load, ratio_names, to_variable
from crknee.data.user import add

__all__ = [
    "FLUXES",
    "QUANTITIES",
    "RATIOS",
    "SPECTRA",
    "add",
    "anisotropy_compilation",
    "check_independent",
    "conversion_nuclide",
    "load",
    "names",
    "ratio_names",
    "raw_path",
    "to_variable",
    "user_dir",
    "verify_manifest",
]

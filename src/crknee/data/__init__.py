"""Observational data with provenance: cosmic-ray spectra and B/C, dipole anisotropy,
gamma-ray SEDs of microquasars, X-ray binary catalogues, and the solver's raw tables.

``names(quantity=None)`` lists datasets ``<quantity>/<stem>``; ``load(name, errors)``
returns a QTable in crknee units whose ``meta`` holds the provenance (experiment,
reference, origin, licence, ...); ``to_variable(table, var, species)`` moves a spectrum
onto one energy axis; ``raw_path(relpath)`` locates bundled solver tables;
``add(path, quantity)`` validates and stores a user dataset. Format: docs/data.md;
every bundled dataset with its reference: DATA.md beside this file.
"""
from crknee.data.schema import QUANTITIES, SPECTRA
from crknee.data.store import names, raw_path, user_dir, verify_manifest
from crknee.data.tables import load, to_variable
from crknee.data.user import add

__all__ = [
    "QUANTITIES", "SPECTRA", "add", "load", "names", "raw_path", "to_variable", "user_dir", "verify_manifest",
]

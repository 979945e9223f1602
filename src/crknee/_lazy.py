"""Lazy re-exports for ``crknee`` and its subpackages (PEP 562).

``import crknee`` (or ``crknee.sources``) stays cheap: a re-exported name is imported
from its defining module on first access, then cached on the package.  Each package
declares ``name -> defining module`` once; :func:`attach` returns its ``__getattr__``,
``__dir__`` and ``__all__``.  ``tests/test_api_exports.py`` checks that every name in every
``__all__`` resolves.
"""

from __future__ import annotations

import importlib
import sys


def attach(package: str, exports: dict[str, str]):
    """(``__getattr__``, ``__dir__``, ``__all__``) re-exporting ``exports`` (public name ->
    absolute name of the module that defines it under the same name) from ``package``."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__, sorted(exports)


def exports_of(module: str, *names: str) -> dict[str, str]:
    """``{name: module}`` for each of ``names`` (a shorthand for :func:`attach`)."""
    return dict.fromkeys(names, module)

"""First-class objects (issue 14, item 3): the re-exports of ``crknee`` and its
subpackages resolve, and they are lazy (``import crknee`` imports no numerics)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = (
    "crknee",
    "crknee.sources",
    "crknee.anisotropy",
    "crknee.gamma",
    "crknee.catalogs",
    "crknee.population",
    "crknee.propagation",
)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package):
    mod = importlib.import_module(package)
    assert mod.__all__, f"{package} exports nothing"
    assert len(set(mod.__all__)) == len(mod.__all__)
    for name in mod.__all__:
        value = getattr(mod, name)
        assert value is not None, f"{package}.{name}"
        assert name in dir(mod)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        mod.not_a_name  # noqa: B018


def test_top_level_names_are_the_defining_objects():
    import crknee
    from crknee.propagation.solution import solve
    from crknee.sources.point import PointSource

    assert crknee.PointSource is PointSource and crknee.solve is solve
    assert crknee.__version__.count(".") >= 2


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


HEAVY = {"numpy", "astropy", "scipy", "matplotlib", "numba", "emcee", "h5py", "dask", "xarray"}


@pytest.mark.parametrize(
    "code",
    [
        "import crknee",
        "import crknee.sources, crknee.anisotropy, crknee.gamma, "
        "crknee.catalogs, crknee.population, crknee.propagation",
    ],
)
def test_importing_the_packages_is_cheap(code):
    assert not HEAVY & _imported_after(code)


def test_command_line_help_imports_no_numerics():
    """``crknee --help`` lists every command without importing any command module
    (issue 14 item 6; the start-up time itself is measured by benchmarks/bench_cli.py)."""
    loaded = _imported_after(
        "import contextlib\nfrom crknee.cli import main\nwith contextlib.suppress(SystemExit):\n    main(['--help'])"
    )
    assert not HEAVY & loaded
    assert not {m for m in loaded if m.startswith("crknee.cli.")}


def _backend_after(code: str, **env) -> str:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"} | env
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport matplotlib\nprint(matplotlib.get_backend())"],
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    ).stdout
    return out.split()[-1].lower()


def test_plot_modules_leave_the_backend_to_the_user():
    """Library vs application (issue 14 item 4): importing a plot module keeps the user's
    backend (a notebook's inline one; here ``svg``); the command line selects Agg."""
    assert _backend_after("import crknee.plots.style, crknee.plots.bc", MPLBACKEND="svg") == "svg"
    assert (
        _backend_after(
            "import contextlib\nfrom crknee.cli import main\n"
            "with contextlib.suppress(SystemExit):\n    main(['--help'])"
        )
        == "agg"
    )
    assert _backend_after("from crknee.cli import main\nmain(['--help'])", MPLBACKEND="svg") == "svg"

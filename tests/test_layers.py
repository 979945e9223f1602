"""The package's layers (issue 14, item 4; docs/architecture.md, "Layers").

Every ``import`` of a crknee module in every module of the package (top-level and inside
functions, parsed with :mod:`ast`, nothing imported) must point to the same layer or a
layer below:

    base < physics < inference < application

and no library module (base, physics, inference) imports :mod:`crknee.paper`, the
paper's published numbers: only the application (the report, the command line) and the
tests compare with them.  Known violations in files owned by other branches are listed,
each with its file and reason, in :data:`ALLOWED`; the test fails on any other violation
and on an entry that no longer occurs (remove it then).
"""

from __future__ import annotations

import ast
from pathlib import Path

import crknee

SRC = Path(crknee.__file__).resolve().parent

#: Top-level modules and subpackages of crknee by layer (docs/architecture.md).
LAYERS = {
    "base": ("crknee", "_lazy", "constants", "errors", "io", "units", "kinematics", "lock", "data", "parameters"),
    "physics": ("transport", "modulation", "propagation", "sources", "anisotropy", "gamma", "population"),
    "inference": ("fit", "catalogs"),
    "application": ("config", "validation", "pipeline", "report", "plots", "cli", "paper"),
}
ORDER = tuple(LAYERS)
LIBRARY = ("base", "physics", "inference")

#: (importing module, imported module) -> why it is tolerated for now.  Each names a
#: file owned by another branch; remove the entry when that file is fixed.
ALLOWED: dict = {}  # none left: the fit returns its result, the CLI and the pipeline draw


def module_name(path: Path) -> str:
    parts = ("crknee",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "crknee"


def layer(module: str) -> str:
    found = [name for name, areas in LAYERS.items() if area(module) in areas]
    assert len(found) == 1, f"{module}: area {area(module)!r} belongs to no layer (or to several); add it to LAYERS"
    return found[0]


def imports(path: Path):
    """(imported crknee module, line) for every import statement of the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "crknee":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import; crknee uses absolute imports"
            if (node.module or "").split(".")[0] != "crknee":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield (sub if sub in MODULES else node.module), node.lineno


def violations() -> dict[tuple[str, str], str]:
    found = {}
    for module, path in sorted(MODULES.items()):
        here = layer(module)
        for target, line in imports(path):
            there = layer(target)
            where = f"{path.relative_to(SRC.parent)}:{line}"
            if area(target) == "paper" and here in LIBRARY:
                found[(module, target)] = f"{where}: {here} module imports crknee.paper"
            elif ORDER.index(there) > ORDER.index(here):
                found[(module, target)] = f"{where}: {here} imports {there} ({target})"
    return found


def test_every_area_has_one_layer():
    layers = {module: layer(module) for module in MODULES}
    assert set(layers.values()) == set(LAYERS)  # every layer holds at least one module
    assert layers["crknee.units"] == "base" and layers["crknee.fit.propagation.model"] == "inference"


def test_no_import_runs_up_a_layer_and_no_library_module_reads_the_paper():
    found = violations()
    new = {key: why for key, why in found.items() if key not in ALLOWED}
    assert not new, "layer violations:\n" + "\n".join(new.values())
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"fixed, remove from ALLOWED: {stale}"


def test_the_checker_sees_a_violation(tmp_path):
    """The parser finds imports inside functions, ``from crknee import x`` submodules and
    plain ``import crknee.x`` (a checker that sees nothing would pass everything)."""
    src = tmp_path / "m.py"
    src.write_text("import crknee.paper\n\ndef f():\n    from crknee import plots\n    from crknee.cli import main\n")
    assert sorted(t for t, _ in imports(src)) == ["crknee.cli", "crknee.paper", "crknee.plots"]
    assert layer("crknee.sources.point") == "physics" and layer("crknee.paper") == "application"

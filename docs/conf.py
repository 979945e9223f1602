"""Sphinx configuration of the crknee documentation (``make docs``; docs/contributing.md).

The build needs no network: intersphinx is off unless ``CRKNEE_DOCS_INTERSPHINX=1``
(its inventories are downloaded from numpy.org, scipy.org, ...).  The tutorials in
``tutorials/`` are MyST-markdown notebooks executed at every build by myst-nb; with
``CRKNEE_REDUCED=1`` (CI) they run at a reduced size.
"""

import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # document the source tree, installed or not
# ... and run the tutorials' kernels on it too
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))

import crknee

project = "crknee"
author = "crknee developers"
copyright = "crknee developers (MIT licence)"
release = crknee.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]
if os.environ.get("CRKNEE_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "astropy": ("https://docs.astropy.org/en/stable/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
        "emcee": ("https://emcee.readthedocs.io/en/stable/", None),
    }

templates_path = ["_templates"]
# Docstrings write absolute values as in physics, |z| (height above the plane), |b|,
# |delta| (dipole amplitude): reStructuredText would read them as substitutions.  Each is
# defined here as itself, so the docstrings stay readable as plain text.
ABSOLUTE_VALUES = ("b", "delta", "h", "z", "zs", "Z", "zeta", "ln B", "Delta ln A", "log10 R_i - log10 R_j")
rst_prolog = "\n".join(rf".. |{name}| replace:: \|{name}\|" for name in ABSOLUTE_VALUES) + "\n"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# --- API reference: autosummary writes one page per module into api/generated/ ---------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc text holds the units; hints like u.Quantity add noise
autodoc_inherit_docstrings = False  # document crknee, not the docstrings of emcee/h5py bases
numpydoc_show_class_members = False  # autosummary lists the members once
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- MyST / myst-nb ---------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("CRKNEE_DOCS_EXECUTE", "force")  # "off" to skip running
nb_execution_timeout = 600
nb_execution_raise_on_error = True  # a failing tutorial fails the build
nb_execution_show_tb = True
nb_merge_streams = True

# --- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"crknee {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_static_path = []
html_show_sourcelink = False


# --- Names re-exported by a package (crknee.propagation.PropagationModel) ----------------
# The reference documents each object once, in the module that defines it
# (crknee.propagation.model.PropagationModel).  Docstrings and tutorials name the short,
# public path, or a bare name imported into the current module (InputError): resolve
# those to where the object is documented.


def _import_object(dotted: str):
    """The object a dotted crknee name refers to, or None."""
    if not dotted.startswith("crknee"):
        return None
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _canonical_name(obj) -> str | None:
    if isinstance(obj, type(sys)):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if module and qualname else None


def resolve_reexport(app, env, node, contnode):
    """``missing-reference`` handler: a crknee name resolved to its defining module."""
    if node.get("refdomain") != "py":
        return None
    target, module = node["reftarget"], node.get("py:module")
    candidates = [target] + ([f"{module}.{target}"] if module else [])
    domain = env.get_domain("py")
    for name in candidates:
        canonical = _canonical_name(_import_object(name))
        if canonical and canonical != name:
            found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode)
            if found is not None:
                return found
    # module-level data (no __qualname__): the one documented object of that name in the package
    package, _, last = (target if "." in target else f"{module}.{target}").rpartition(".")
    if package.startswith("crknee"):
        matches = [name for name in domain.objects if name.startswith(package + ".") and name.endswith("." + last)]
        if len(matches) == 1:
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode)
    return None


def setup(app):
    app.connect("missing-reference", resolve_reexport)

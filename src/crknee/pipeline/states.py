"""The states handed from one pipeline step to the next, stored without pickle.

A state is a tree of dicts (string keys), lists, strings, numbers, booleans, None and
numpy arrays of numbers.  :func:`write_state` stores it as an uncompressed zip archive in
numpy's ``.npz`` layout: every array is one ``.npy`` member and the tree, with each
array replaced by ``{"__array__": "<member>"}``, is the JSON member ``tree.json``.
:func:`read_state` loads the arrays with ``allow_pickle=False``: nothing in the file can
run code.  Member timestamps are fixed (1980-01-01), so equal states give byte-identical
files and equal SHA-256 (the pipeline records it with the cache key and checks it before
every reuse; zip's per-member CRC-32 catches damage too).

The objects the steps pass on are rebuilt from their plain values by the codecs below
(:func:`encode_solution` / :func:`decode_solution`, :func:`encode_point_source` /
:func:`decode_point_source`); floats go through JSON as their shortest repr and arrays
bit for bit, so a decoded object computes exactly what the original did.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np

from crknee.errors import CrkneeError
from crknee.io import atomic_target

_TREE = "tree.json"
_EPOCH = (1980, 1, 1, 0, 0, 0)


class DamagedStateError(CrkneeError):
    """A stored state cannot be read back (truncated, altered, not a state file)."""


def _flatten(obj, arrays: dict):
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise CrkneeError(f"a pipeline state array must hold numbers, not {obj.dtype}")
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {"__array__": name}
    if isinstance(obj, dict):
        bad = [k for k in obj if not isinstance(k, str)]
        if bad:
            raise CrkneeError(f"a pipeline state dict needs string keys, got {bad[0]!r}")
        return {k: _flatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_flatten(v, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    raise CrkneeError(f"a pipeline state cannot hold a {type(obj).__name__} (encode it into plain values)")


def _unflatten(obj, arrays: dict):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        return {k: _unflatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, arrays) for v in obj]
    return obj


def write_state(path, tree) -> None:
    """Store ``tree`` (module docstring) atomically at ``path``."""
    arrays = {}
    flat = _flatten(tree, arrays)
    with atomic_target(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(_TREE, _EPOCH), json.dumps(flat, allow_nan=True))
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", _EPOCH), buf.getvalue())


def read_state(path):
    """The tree stored at ``path``; :class:`DamagedStateError` if it cannot be read back."""
    try:
        with zipfile.ZipFile(path) as zf:
            flat = json.loads(zf.read(_TREE))
            arrays = {}
            for member in zf.namelist():
                if member != _TREE:
                    with zf.open(member) as fh:
                        arrays[member.removesuffix(".npy")] = np.lib.format.read_array(fh, allow_pickle=False)
            return _unflatten(flat, arrays)
    except (OSError, zipfile.BadZipFile, ValueError, KeyError, EOFError) as exc:
        raise DamagedStateError(f"{path}: not a readable pipeline state ({type(exc).__name__}: {exc})") from None


# ------------------------------------------------------------------------------ codecs
def encode_solution(solution) -> dict:
    """The background :class:`crknee.propagation.solution.Solution` as plain values (its
    model is rebuilt from the config section, which is part of the cache key)."""
    from crknee.propagation.solution import Q_UNIT

    raw = solution.raw
    return {
        "nuclides": [n.name for n in solution.nuclides],
        "norms": solution.norms.to_value(Q_UNIT),
        "raw": {"ekn": raw.ekn, "psi": raw.psi, "dpsi_dr": raw.dpsi_dr, "dpsi_dz": raw.dpsi_dz, "modes": raw.modes},
    }


def decode_solution(tree: dict, propagation: dict):
    """The Solution of :func:`encode_solution`, with the model of ``propagation`` (config)."""
    from crknee.kinematics import nuclide
    from crknee.propagation.model import model_from_config
    from crknee.propagation.solution import Q_UNIT, Solution
    from crknee.propagation.solver import RawSolution

    return Solution(
        model=model_from_config(propagation),
        nuclides=tuple(nuclide(n) for n in tree["nuclides"]),
        raw=RawSolution(**tree["raw"]),
        norms=np.asarray(tree["norms"]) * Q_UNIT,
    )


def encode_point_source(src) -> dict:
    """A :class:`crknee.sources.point.PointSource` as plain values."""
    d = src.diffusion
    return {
        "name": src.name,
        "l_deg": src.l_deg,
        "b_deg": src.b_deg,
        "d_kpc": src.d_kpc,
        "age_Myr": src.age_Myr,
        "beta": src.beta,
        "Rcut_GV": src.Rcut_GV,
        "energy_erg": src.energy_erg,
        "luminosity_erg_s": src.luminosity_erg_s,
        "mode": src.mode,
        "composition": [[n, f] for n, f in src.composition.abundances],
        "diffusion": {"D0": d.D0, "delta": d.delta, "R0": d.R0, "eta": d.eta},
        "halo_kpc": src.halo_kpc,
    }


def decode_point_source(tree: dict):
    """The PointSource of :func:`encode_point_source`."""
    from crknee.sources.injection import Composition
    from crknee.sources.point import PointSource
    from crknee.transport import Diffusion

    kw = dict(tree)
    kw["composition"] = Composition(tuple((str(n), f) for n, f in kw["composition"]))
    kw["diffusion"] = Diffusion(**kw["diffusion"])
    return PointSource(**kw)

"""Save and load state dicts as ``.npz`` files, without pickle.

``save(obj, path)`` writes every array of ``obj`` under a generated key (``arr_0``,
``arr_1``, ...) of an ``.npz`` archive, plus a JSON manifest (stored as a uint8 array under
the reserved key ``__minigrad_manifest__``) that records the nested structure, the Python
scalars and the type of every dict key. ``load(path)`` checks that the file is a zip
archive, reads it with ``np.load(..., allow_pickle=False)`` and rebuilds the object, so
loading an untrusted file can never execute code: anything that would need pickle is
refused with a ValueError.

Supported values: dicts (``str`` or ``int`` keys, order kept), lists, tuples, numpy arrays
(any non-object dtype, any shape including 0-d), numpy scalars, Python ``int``, ``float``,
``bool``, ``str`` and ``None``, and minigrad Tensors (their data, detached; they load back as
Tensors, as ``torch.load`` gives tensors back). Other objects with a ``.numpy()`` method are
saved as plain arrays and load back as arrays.

Round trips are exact: array dtypes, shapes and bytes are preserved, floats are stored
bit-exactly (as hex), int and str dict keys stay distinct, tuples come back as tuples
(dict subclasses such as ``OrderedDict`` come back as ``dict``; numpy integer dict keys
come back as ``int``).
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ._tensor import Tensor, _wrap

__all__ = ["save", "load", "MANIFEST_KEY", "FORMAT_NAME", "FORMAT_VERSION"]

MANIFEST_KEY = "__minigrad_manifest__"
FORMAT_NAME = "minigrad-checkpoint"
FORMAT_VERSION = 1

PathLike = str | os.PathLike


# ----------------------------------------------------------------------------- encoding


def _key_repr(key: str | int) -> str:
    return f"[{key!r}]"


def _as_array(value: Any) -> np.ndarray | None:
    """Return the array behind an array-like value with a .numpy() method, or None."""
    numpy_method = getattr(value, "numpy", None)
    if callable(numpy_method):
        arr = numpy_method()
        return arr if isinstance(arr, np.ndarray) else np.asarray(arr)
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return None


def _store_array(arr: np.ndarray, where: str, arrays: dict[str, np.ndarray]) -> str:
    if arr.dtype.hasobject:
        raise TypeError(
            f"cannot save {where}: object arrays (dtype {arr.dtype}) would need pickle; "
            "convert to a numeric, bool or string dtype"
        )
    key = f"arr_{len(arrays)}"
    arrays[key] = arr
    return key


def _encode(
    value: Any, where: str, arrays: dict[str, np.ndarray], active: set[int]
) -> dict[str, Any]:
    # Order matters: bool before int, numpy scalars before float (np.float64 is a float).
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, np.ndarray):
        return {"t": "array", "k": _store_array(value, where, arrays)}
    if isinstance(value, Tensor):
        node = {"t": "tensor", "k": _store_array(value._data, where, arrays)}
        if value.requires_grad and value.is_leaf:
            node["rg"] = True
        if type(value).__name__ == "Parameter":
            node["param"] = True
        return node
    if isinstance(value, np.generic):
        return {"t": "scalar", "k": _store_array(np.asarray(value), where, arrays)}
    if isinstance(value, int):
        return {"t": "int", "v": int(value)}
    if isinstance(value, float):
        return {"t": "float", "v": float(value).hex()}
    if isinstance(value, str):
        return {"t": "str", "v": str(value)}
    if isinstance(value, (dict, list, tuple)):
        if id(value) in active:
            raise ValueError(f"cannot save {where}: it contains itself (circular reference)")
        active.add(id(value))
        try:
            if isinstance(value, dict):
                items = []
                for k, v in value.items():
                    if isinstance(k, (bool, np.bool_)):
                        raise TypeError(
                            f"cannot save {where}: dict key {k!r} is a bool; "
                            "only str and int keys are supported"
                        )
                    if isinstance(k, str):
                        kt, kv = "s", str(k)
                    elif isinstance(k, (int, np.integer)):
                        kt, kv = "i", int(k)
                    else:
                        raise TypeError(
                            f"cannot save {where}: dict key {k!r} has type "
                            f"{type(k).__name__}; only str and int keys are supported"
                        )
                    items.append([kt, kv, _encode(v, where + _key_repr(kv), arrays, active)])
                return {"t": "dict", "items": items}
            kind = "list" if isinstance(value, list) else "tuple"
            return {
                "t": kind,
                "items": [_encode(v, f"{where}[{i}]", arrays, active) for i, v in enumerate(value)],
            }
        finally:
            active.discard(id(value))
    arr = _as_array(value)
    if arr is not None:
        return {"t": "array", "k": _store_array(arr, where, arrays)}
    raise TypeError(
        f"cannot save {where}: unsupported type {type(value).__name__} "
        "(supported: dict, list, tuple, numpy array/scalar, tensor, int, float, bool, str, None)"
    )


def save(obj: Any, path: PathLike) -> Path:
    """Save a (nested) state dict to an ``.npz`` file without using pickle.

    Like ``np.savez``, ``.npz`` is appended to ``path`` if it does not already end with it;
    the path actually written is returned. The file is written to a temporary file in the
    same directory and then renamed, so an interrupted save never leaves a half-written
    checkpoint under ``path``. Unsupported values raise TypeError naming their key path,
    e.g. ``obj['state'][0]['fn']``; a structure that contains itself raises ValueError.
    """
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, "obj", arrays, set())
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": tree}
    blob = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)

    target = Path(os.fspath(path))
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    # A temporary sibling opened with "xb" (honours the umask, unlike mkstemp), then renamed.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            np.savez(fh, **arrays, **{MANIFEST_KEY: blob})
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


# ----------------------------------------------------------------------------- decoding


class _Corrupt(Exception):
    """Internal: raised while decoding a manifest that does not describe a valid tree."""


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise _Corrupt(f"manifest node {node!r:.80} is not a typed node")
    t = node["t"]
    if t == "none":
        return None
    if t == "bool" and isinstance(node.get("v"), bool):
        return node["v"]
    if t == "int" and isinstance(node.get("v"), int) and not isinstance(node["v"], bool):
        return node["v"]
    if t == "float" and isinstance(node.get("v"), str):
        try:
            return float.fromhex(node["v"])
        except ValueError as err:
            raise _Corrupt(f"bad float {node['v']!r:.80}") from err
    if t == "str" and isinstance(node.get("v"), str):
        return node["v"]
    if t in ("array", "scalar", "tensor"):
        key = node.get("k")
        if not isinstance(key, str) or key not in arrays:
            raise _Corrupt(f"manifest refers to array {key!r:.80}, which is not in the file")
        arr = arrays[key]
        if t == "scalar":
            if arr.ndim != 0:
                raise _Corrupt(f"scalar {key!r} has shape {arr.shape}")
            return arr[()]
        if t != "tensor":
            return arr
        if node.get("param"):
            from .nn.modules import Parameter
            return Parameter(_wrap(arr), requires_grad=bool(node.get("rg")))
        out = _wrap(arr)
        if node.get("rg"):
            out.requires_grad = True
        return out
    if t in ("list", "tuple") and isinstance(node.get("items"), list):
        items = [_decode(n, arrays) for n in node["items"]]
        return items if t == "list" else tuple(items)
    if t == "dict" and isinstance(node.get("items"), list):
        out: dict[str | int, Any] = {}
        for item in node["items"]:
            if not (isinstance(item, list) and len(item) == 3):
                raise _Corrupt(f"bad dict item {item!r:.80}")
            kt, kv, child = item
            if kt == "s" and isinstance(kv, str):
                key_out: str | int = kv
            elif kt == "i" and isinstance(kv, int) and not isinstance(kv, bool):
                key_out = kv
            else:
                raise _Corrupt(f"bad dict key {kt!r:.10}/{kv!r:.80}")
            out[key_out] = _decode(child, arrays)
        return out
    raise _Corrupt(f"unknown or malformed manifest node {node!r:.80}")


# Exceptions that numpy / zipfile / zlib raise on malformed or truncated input
# (NotImplementedError is a RuntimeError: unknown zip compression or flags).
_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
    KeyError,
    OverflowError,
    zipfile.BadZipFile,
    zlib.error,
)


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK"


def _not_checkpoint(path: Path, detail: str) -> ValueError:
    return ValueError(f"{str(path)!r} is not a minigrad checkpoint or is corrupt: {detail}")


def load(path: PathLike) -> Any:
    """Load an object written by :func:`save`; never unpickles anything.

    If ``path`` does not exist but ``path + ".npz"`` does (mirroring :func:`save`, which
    appends the suffix), that file is loaded. Raises FileNotFoundError for a missing file
    and ValueError (naming the path) for anything that is not an intact minigrad checkpoint:
    a truncated or non-npz file, a pickle, an npz without the manifest, or an npz holding an
    object array (which would need pickle). Arrays come back as fresh in-memory arrays.
    """
    target = Path(os.fspath(path))
    if not target.exists():
        alt = target.with_name(target.name + ".npz")
        if target.suffix != ".npz" and alt.is_file():
            target = alt
        else:
            raise FileNotFoundError(2, "No such minigrad checkpoint", str(target))

    arrays: dict[str, np.ndarray] = {}
    # Errors from opening the file (permissions, a directory, ...) propagate unchanged; any
    # error while parsing the opened bytes means the file is not an intact checkpoint.
    with open(target, "rb") as fh:
        head = fh.read(len(_NPY_MAGIC))
        fh.seek(0)
        # Sniff the format first, so numpy only ever parses zip archives.
        if not head:
            raise _not_checkpoint(target, "the file is empty")
        if head.startswith(_NPY_MAGIC):
            raise _not_checkpoint(target, "it is a single .npy array, not an .npz archive")
        if not head.startswith(_ZIP_MAGIC):
            kind = (
                "a pickle (refusing to unpickle it)" if head[:1] == b"\x80" else "some other file"
            )
            raise _not_checkpoint(target, f"it is not an .npz (zip) archive but {kind}")
        try:
            with np.load(fh, allow_pickle=False) as archive:
                for name in archive.files:
                    try:
                        arrays[name] = archive[name]
                    except ValueError as err:
                        msg = str(err).lower()
                        if "object" in msg and "pickle" in msg:
                            raise _Corrupt(
                                f"entry {name!r} is an object array, which would need pickle "
                                "to load (refused)"
                            ) from err
                        raise
        except _Corrupt as err:
            raise _not_checkpoint(target, str(err)) from err
        except _READ_ERRORS as err:
            detail = f"cannot read it as an .npz archive ({type(err).__name__}: {err})"
            raise _not_checkpoint(target, detail) from err

    blob = arrays.pop(MANIFEST_KEY, None)
    if blob is None:
        raise _not_checkpoint(target, f"the archive has no {MANIFEST_KEY!r} entry")
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise _not_checkpoint(target, "the manifest entry is not a 1-D uint8 array")
    try:
        manifest = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _not_checkpoint(target, f"the manifest is not valid JSON ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise _not_checkpoint(target, "the manifest does not name the minigrad format")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise _not_checkpoint(
            target, f"unsupported format version {version!r} (this minigrad reads 1)"
        )
    if "root" not in manifest:
        raise _not_checkpoint(target, "the manifest has no root")
    try:
        return _decode(manifest["root"], arrays)
    except (_Corrupt, RecursionError) as err:
        raise _not_checkpoint(target, f"bad manifest: {err}") from err

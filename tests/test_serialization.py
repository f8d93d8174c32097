"""Tests for minigrad.serialization: exact npz round trips and pickle-free, clear failures."""

from __future__ import annotations

import json
import math
import os
import pickle
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.serialization import MANIFEST_KEY, load, save

NOT_CKPT = "not a minigrad checkpoint or is corrupt"


def assert_same_array(a, b):
    assert isinstance(b, np.ndarray)
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


# ----------------------------------------------------------------------------- round trips


def test_flat_state_dict_round_trip_is_bit_exact(tmp_path):
    rng = np.random.default_rng(0)
    state = {
        "w32": rng.normal(size=(3, 4)).astype(np.float32),
        "w64": rng.normal(size=(5,)),
        "idx": np.arange(-3, 4, dtype=np.int64),
        "scalar": np.array(2.5),
        "scalar32": np.array(7, dtype=np.int32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "mask": np.array([True, False]),
        "half": np.array([1.5, -2.0], dtype=np.float16),
        "transposed": np.arange(6.0).reshape(2, 3).T,
        "special": np.array([np.nan, -0.0, np.inf, -np.inf, 5e-324]),
    }
    save(state, tmp_path / "model.npz")
    back = load(tmp_path / "model.npz")
    assert list(back) == list(state)
    for key, arr in state.items():
        assert_same_array(arr, back[key])
    assert back["scalar"].shape == () and back["w32"].dtype == np.float32


def test_nested_optimizer_state_round_trip(tmp_path):
    opt = {
        "state": {
            0: {"step": 3, "exp_avg": np.full((2, 2), 0.1, dtype=np.float32)},
            1: {"step": 3, "exp_avg": np.zeros(4), "max_sq": np.array(1.0)},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "name": None,
                "params": [0, 1],
            }
        ],
        "0": "a str key that looks like an int key",
        "notes": "ünïcødé ✓",
    }
    save(opt, tmp_path / "opt.npz")
    back = load(tmp_path / "opt.npz")
    assert set(back["state"]) == {0, 1}
    assert all(type(k) is int for k in back["state"])
    assert "0" in back and 0 not in back
    assert back["0"] == opt["0"] and back["notes"] == opt["notes"]
    group = back["param_groups"][0]
    assert group == {k: v for k, v in opt["param_groups"][0].items()}
    assert type(group["amsgrad"]) is bool and type(back["state"][0]["step"]) is int
    assert isinstance(back["param_groups"], list)
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    for i in (0, 1):
        for key, val in opt["state"][i].items():
            if isinstance(val, np.ndarray):
                assert_same_array(val, back["state"][i][key])


def test_python_scalars_exact(tmp_path):
    values = [0.1, 1e-300, -0.0, math.inf, -math.inf, 2**70, -(2**63), True, False, None, ""]
    save({"v": values}, tmp_path / "s.npz")
    back = load(tmp_path / "s.npz")["v"]
    assert len(back) == len(values)
    for a, b in zip(values, back, strict=True):
        assert type(a) is type(b)
        if isinstance(a, float):
            assert a.hex() == b.hex()
        else:
            assert a == b
    nan = load(save([math.nan], tmp_path / "n.npz"))[0]
    assert isinstance(nan, float) and math.isnan(nan)


def test_tuples_and_lists_and_numpy_scalars(tmp_path):
    obj = {"t": (1, (2.0, "x")), "l": [1, [2]], "f32": np.float32(0.1), "i8": np.int8(-3)}
    back = load(save(obj, tmp_path / "t.npz"))
    assert back["t"] == (1, (2.0, "x")) and isinstance(back["t"][1], tuple)
    assert back["l"] == [1, [2]] and isinstance(back["l"], list)
    assert type(back["f32"]) is np.float32 and back["f32"] == np.float32(0.1)
    assert type(back["i8"]) is np.int8 and back["i8"] == -3


def test_top_level_array_and_empty_containers(tmp_path):
    arr = np.arange(4, dtype=np.uint16)
    assert_same_array(arr, load(save(arr, tmp_path / "a.npz")))
    assert load(save({}, tmp_path / "e.npz")) == {}
    assert load(save({"a": [], "b": {}, "c": ()}, tmp_path / "f.npz")) == {
        "a": [],
        "b": {},
        "c": (),
    }


def test_ordered_dict_and_numpy_int_keys(tmp_path):
    obj = OrderedDict([(np.int64(2), "two"), ("b", 1)])
    back = load(save(obj, tmp_path / "o.npz"))
    assert back == {2: "two", "b": 1} and type(back) is dict
    assert list(back) == [2, "b"]


class _DataTensor:
    """A tensor-like (not a minigrad Tensor) exposing its array as ``.data``."""

    def __init__(self, data):
        self.data = data


class _NumpyTensor:
    """A tensor-like exposing ``.numpy()``."""

    def __init__(self, data):
        self._d = data

    def numpy(self):
        return self._d


def test_tensor_like_values_are_saved_as_arrays(tmp_path):
    a = np.arange(3, dtype=np.float32)
    b = np.eye(2)
    back = load(save({"a": _DataTensor(a), "b": _NumpyTensor(b)}, tmp_path / "t.npz"))
    assert_same_array(a, back["a"])
    assert_same_array(b, back["b"])


def test_loaded_arrays_are_independent_and_writable(tmp_path):
    a = np.arange(3.0)
    back = load(save({"a": a}, tmp_path / "w.npz"))
    back["a"][0] = 99.0
    assert a[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    arr=hnp.arrays(
        dtype=st.sampled_from(
            [np.float32, np.float64, np.int64, np.int8, np.uint32, np.bool_, np.complex128]
        ),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    )
)
def test_any_numeric_array_round_trips(arr):
    with tempfile.TemporaryDirectory() as d:
        back = load(save({"x": arr, "nested": [{"y": arr}]}, os.path.join(d, "h.npz")))
    assert_same_array(arr, back["x"])
    assert_same_array(arr, back["nested"][0]["y"])


# ----------------------------------------------------------------------------- paths


def test_suffix_is_appended_like_numpy(tmp_path):
    written = save({"a": np.ones(2)}, tmp_path / "ckpt")
    assert written == tmp_path / "ckpt.npz"
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary files left behind
    np.testing.assert_array_equal(load(tmp_path / "ckpt.npz")["a"], np.ones(2))
    np.testing.assert_array_equal(load(str(tmp_path / "ckpt"))["a"], np.ones(2))


def test_str_path_and_overwrite(tmp_path):
    p = str(tmp_path / "x.npz")
    save({"v": 1}, p)
    save({"v": 2}, p)
    assert load(p) == {"v": 2}


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope")


# ----------------------------------------------------------------------------- bad files


def _expect_not_checkpoint(path, match=None):
    with pytest.raises(ValueError) as info:
        load(path)
    msg = str(info.value)
    assert NOT_CKPT in msg and str(path) in msg
    if match is not None:
        assert match in msg, msg
    return msg


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, keep):
    p = save({"w": np.arange(100.0), "s": {0: [1, 2]}}, tmp_path / "t.npz")
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])
    _expect_not_checkpoint(p)


def test_text_file(tmp_path):
    p = tmp_path / "notes.npz"
    p.write_text("hello, this is not a checkpoint\n")
    _expect_not_checkpoint(p)


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.npz"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _expect_not_checkpoint(p)


def test_plain_pickle_file(tmp_path):
    p = tmp_path / "state.pkl"
    p.write_bytes(pickle.dumps({"w": np.ones(3)}))
    _expect_not_checkpoint(p, match="pickle (refusing to unpickle")


def test_npy_file(tmp_path):
    p = tmp_path / "arr.npy"
    np.save(p, np.ones(3))
    _expect_not_checkpoint(p, match=".npy")


def test_npz_without_manifest(tmp_path):
    p = tmp_path / "plain.npz"
    np.savez(p, w=np.ones(3))
    _expect_not_checkpoint(p, match=MANIFEST_KEY)


def test_npz_with_object_array(tmp_path):
    p = tmp_path / "obj.npz"
    np.savez(p, w=np.array([{"a": 1}, None], dtype=object))
    _expect_not_checkpoint(p, match="object array")


def _write_npz_with_manifest(path, manifest, **arrays):
    blob = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    np.savez(path, **arrays, **{MANIFEST_KEY: blob})


def test_valid_manifest_pointing_at_object_array_is_refused(tmp_path):
    p = tmp_path / "crafted.npz"
    manifest = {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "array", "k": "a"}}
    _write_npz_with_manifest(p, manifest, a=np.array([object()], dtype=object))
    _expect_not_checkpoint(p, match="object array")


@pytest.mark.parametrize(
    "manifest",
    [
        {"format": "something-else", "version": 1, "root": {"t": "none"}},
        {"format": "minigrad-checkpoint", "version": 99, "root": {"t": "none"}},
        {"format": "minigrad-checkpoint", "version": 1},
        {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "array", "k": "missing"}},
        {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "mystery"}},
        {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "dict", "items": [[1]]}},
        [1, 2, 3],
    ],
)
def test_bad_manifests(tmp_path, manifest):
    p = tmp_path / "m.npz"
    _write_npz_with_manifest(p, manifest)
    _expect_not_checkpoint(p)


def test_manifest_not_json(tmp_path):
    p = tmp_path / "j.npz"
    np.savez(p, **{MANIFEST_KEY: np.frombuffer(b"{not json", dtype=np.uint8)})
    _expect_not_checkpoint(p, match="JSON")


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_runs_pickled_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = _Payload(marker)

    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps({"w": payload}))
    npy = tmp_path / "evil.npy"
    np.save(npy, np.array([payload], dtype=object), allow_pickle=True)
    npz = tmp_path / "evil.npz"
    np.savez(npz, w=np.array([payload], dtype=object))
    crafted = tmp_path / "crafted.npz"
    manifest = {"format": "minigrad-checkpoint", "version": 1, "root": {"t": "array", "k": "a"}}
    _write_npz_with_manifest(crafted, manifest, a=np.array([payload], dtype=object))

    for p in (raw, npy, npz, crafted):
        with pytest.raises(ValueError):
            load(p)
        assert not marker.exists(), f"loading {p.name} ran code"

    # Control: the payload is live, so the checks above could have failed.
    pickle.loads(raw.read_bytes()).get("w").close()
    assert marker.exists()


# ----------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("obj", "where"),
    [
        ({"a": {1, 2}}, "obj['a']"),
        ({"state": {0: {"fn": len}}}, "obj['state'][0]['fn']"),
        ({"xs": [1, np.array([None], dtype=object)]}, "obj['xs'][1]"),
        ({"c": 1 + 2j}, "obj['c']"),
        ({"b": b"bytes"}, "obj['b']"),
        ({"d": {1.5: 0}}, "obj['d']"),
        ({"d": {True: 0}}, "obj['d']"),
        ({"d": {(1, 2): 0}}, "obj['d']"),
        ({"t": _DataTensor(3.0)}, "obj['t']"),
    ],
)
def test_unsupported_values_name_the_key_path(tmp_path, obj, where):
    with pytest.raises(TypeError) as info:
        save(obj, tmp_path / "bad.npz")
    assert where in str(info.value)
    assert not list(tmp_path.iterdir())  # nothing written


def test_circular_structure_is_refused(tmp_path):
    loop: dict = {"a": 1}
    loop["self"] = loop
    with pytest.raises(ValueError, match="circular"):
        save(loop, tmp_path / "loop.npz")
    shared = [1]
    back = load(save({"x": shared, "y": shared}, tmp_path / "shared.npz"))
    assert back == {"x": [1], "y": [1]}  # shared (non-circular) references are fine


def test_path_like_object(tmp_path):
    class P(os.PathLike):
        def __fspath__(self):
            return str(tmp_path / "pl")

    assert save({"a": 1}, P()) == Path(tmp_path / "pl.npz")
    assert load(P()) == {"a": 1}


def test_real_minigrad_tensors_round_trip_as_tensors(tmp_path):
    """minigrad.save / minigrad.load give Tensors back as Tensors (as torch.save / torch.load),
    bit-exact, of the same dtype and shape, independent of the saved ones."""
    import minigrad

    assert minigrad.save is save and minigrad.load is load
    tensors = {
        "weight": minigrad.tensor(np.arange(6.0).reshape(2, 3)),
        "f32": minigrad.tensor([0.1, -2.5], dtype=minigrad.float32),
        "idx": minigrad.tensor([3, -1, 7]),
        "count": minigrad.tensor(5),
        "mask": minigrad.tensor([True, False]),
        "special": minigrad.tensor([math.nan, -0.0, math.inf]),
    }
    back = load(save({"sd": tensors, "plain": np.ones(2)}, tmp_path / "t.npz"))
    assert isinstance(back["plain"], np.ndarray)               # arrays stay arrays
    assert list(back["sd"]) == list(tensors)
    for key, t in tensors.items():
        b = back["sd"][key]
        assert type(b) is minigrad.Tensor, key
        assert b.dtype == t.dtype and b.shape == t.shape and not b.requires_grad
        assert_same_array(t.numpy(), b.numpy())
    back["sd"]["weight"][0, 0] = 99.0
    assert tensors["weight"][0, 0].item() == 0.0


def test_requires_grad_and_parameters_survive_a_round_trip(tmp_path):
    """As torch.load: a tensor that required grad comes back requiring grad (a leaf), and a
    Parameter comes back as a Parameter."""
    import minigrad
    import minigrad.nn as nn

    t = minigrad.tensor([1.0, 2.0], requires_grad=True)
    p = nn.Parameter(minigrad.ones(2))
    back = load(save({"t": t, "p": p}, tmp_path / "g.npz"))
    assert back["t"].requires_grad and back["t"].is_leaf
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad

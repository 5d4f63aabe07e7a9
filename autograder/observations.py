"""Observations: values a test records, carried between processes as plain JSON data (no pickle).

The child encodes what a test observed; the parent decodes the student's and the reference's
observations and compares them (``judge``). Only exact builtin types and real tensors are
encoded: any other object (a tensor subclass, an object whose ``__eq__`` lies) is recorded as
"unsupported" and never equals anything.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import torch

_STORE = {"float": (torch.float64, np.float64), "complex": (torch.complex128, np.complex128),
          "int": (torch.int64, np.int64), "bool": (torch.bool, np.bool_)}


def _family(dtype) -> str:
    if dtype.is_complex:
        return "complex"
    if dtype.is_floating_point:
        return "float"
    return "bool" if dtype == torch.bool else "int"


def encode(value: Any) -> dict:
    """Plain data for ``value``; raises nothing (unsupported objects become a type name)."""
    t = type(value)
    if t is torch.Tensor or t is torch.nn.Parameter:
        fam = _family(value.dtype)
        data = torch.Tensor.detach(value).to("cpu", _STORE[fam][0]).contiguous().numpy().tobytes()
        return {"kind": "tensor", "dtype": str(value.dtype).removeprefix("torch."), "shape": list(value.shape),
                "device": value.device.type, "data": base64.b64encode(data).decode()}
    if t is np.ndarray:
        kind = value.dtype.kind
        fam = {"f": "float", "c": "complex", "b": "bool", "i": "int", "u": "int"}.get(kind)
        if fam is None:
            return {"kind": "unsupported", "type": f"numpy array of {value.dtype}"}
        data = np.ascontiguousarray(value.astype(_STORE[fam][1])).tobytes()
        return {"kind": "ndarray", "dtype": str(value.dtype), "shape": list(value.shape),
                "data": base64.b64encode(data).decode()}
    if value is None or t is bool or t is str:
        return {"kind": "scalar", "v": value}
    if t is int:
        return {"kind": "scalar", "v": value} if abs(value) < 2**63 else {"kind": "scalar", "v": float(value)}
    if t is float or isinstance(value, np.floating):
        v = float(value)
        return {"kind": "float", "v": v if math.isfinite(v) else repr(v)}
    if isinstance(value, np.integer) or isinstance(value, np.bool_):
        return encode(value.item())
    if t is list or t is tuple:
        return {"kind": "list", "items": [encode(v) for v in value]}
    if t is dict and all(type(k) in (str, int) for k in value):
        return {"kind": "dict", "items": [[str(k), encode(v)] for k, v in value.items()]}
    return {"kind": "unsupported", "type": t.__name__}


class _Unsupported:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<a {self.name} object>"


def decode(obj: dict) -> Any:
    kind = obj.get("kind")
    if kind == "tensor":
        dtype = getattr(torch, obj["dtype"])
        store_t, store_np = _STORE[_family(dtype)]
        arr = np.frombuffer(base64.b64decode(obj["data"]), dtype=store_np).reshape(obj["shape"])
        return torch.from_numpy(arr.copy()).to(dtype)
    if kind == "ndarray":
        dt = np.dtype(obj["dtype"])
        fam = {"f": "float", "c": "complex", "b": "bool"}.get(dt.kind, "int")
        arr = np.frombuffer(base64.b64decode(obj["data"]), dtype=_STORE[fam][1]).reshape(obj["shape"])
        return arr.astype(dt)
    if kind == "scalar":
        return obj["v"]
    if kind == "float":
        return float(obj["v"])
    if kind == "list":
        return [decode(v) for v in obj["items"]]
    if kind == "dict":
        return {k: decode(v) for k, v in obj["items"]}
    return _Unsupported(obj.get("type", "unknown"))


def _devices(obj: dict) -> set[str]:
    kind = obj.get("kind")
    if kind == "tensor":
        return {obj["device"]}
    if kind == "list":
        return set().union(*(_devices(v) for v in obj["items"])) if obj["items"] else set()
    if kind == "dict":
        return set().union(*(_devices(v) for _, v in obj["items"])) if obj["items"] else set()
    return set()


def judge(student: list[dict], reference: list[dict]) -> str | None:
    """None when every observation matches the reference's, else a message that teaches.

    Each observation is ``{"name", "value" (encoded), "rtol", "atol"}``; tolerances come from
    the reference's record only, so nothing the student side reports can loosen them.
    """
    from shared.compare import compare

    for i, ref in enumerate(reference):
        if i >= len(student):
            return f"{ref['name']}: the test stopped before observing this value"
        got = student[i]
        if got.get("name") != ref["name"]:
            return f"observation {i + 1} is {got.get('name')!r} where the reference observed {ref['name']!r}"
        if _identical(got["value"], ref["value"]):  # the same data: equal whatever the tolerance
            continue
        want_dev, got_dev = _devices(ref["value"]), _devices(got["value"])
        if got_dev - want_dev:
            return (f"{ref['name']}: expected a tensor on {'/'.join(sorted(want_dev))}, got one on "
                    f"{'/'.join(sorted(got_dev))}: take the device from the inputs (x.device), never hard-code it")
        actual, expected = decode(got["value"]), decode(ref["value"])
        if isinstance(actual, _Unsupported) or isinstance(expected, _Unsupported):
            if isinstance(expected, _Unsupported):
                return f"{ref['name']}: the reference value cannot be compared ({expected!r})"
            return f"{ref['name']}: expected {_kind(expected)}, got {actual!r}"
        rtol, atol = tolerances(ref)
        msg = compare(actual, expected, rtol=rtol, atol=atol, name=ref["name"])
        if msg:
            return msg
    if len(student) > len(reference):
        return f"the test observed {len(student)} values where the reference observed {len(reference)}"
    return None


def _identical(a, b) -> bool:
    """Whether two encoded values are the same data, type for type (``True`` is not ``1`` here, as it is
    for ``==``); an unsupported object is never identical to anything (it cannot be compared at all).
    Identical data needs no decoding: a correct answer's observations usually are the reference's, bit for
    bit, and comparing their encodings is what most of judging then costs."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        if a.get("kind") == "unsupported" or a.keys() != b.keys():
            return False
        return all(_identical(v, b[k]) for k, v in a.items())
    if type(a) is list:
        return len(a) == len(b) and all(map(_identical, a, b))
    return a == b


_NUMPY_FLOAT = {2: torch.float16, 4: torch.float32, 8: torch.float64}


def _float_dtypes(obj: dict) -> set[torch.dtype]:
    """The floating dtypes of the values an encoded observation holds (a Python float is a float64)."""
    kind = obj.get("kind")
    if kind == "tensor":
        dtype = getattr(torch, obj["dtype"], None)
        if not isinstance(dtype, torch.dtype) or not (dtype.is_floating_point or dtype.is_complex):
            return set()
        return {dtype.to_real() if dtype.is_complex else dtype}
    if kind == "ndarray":
        dt = np.dtype(obj["dtype"])
        if dt.kind not in "fc":
            return set()
        return {_NUMPY_FLOAT.get(dt.itemsize // (2 if dt.kind == "c" else 1), torch.float64)}
    if kind == "float":
        return {torch.float64}
    if kind == "list":
        return set().union(*(_float_dtypes(v) for v in obj["items"]))
    if kind == "dict":
        return set().union(*(_float_dtypes(v) for _, v in obj["items"]))
    return set()


def tolerances(ref: dict) -> tuple[float | None, float | None]:
    """The ``(rtol, atol)`` a reference observation is judged with.

    The rule (docs/authoring.md, "Tolerances"): a test that checks a value to a stated tolerance passes it to
    ``observe(..., rtol=, atol=)``, and the observation is judged at it. A value's dtype bounds how tight that
    can be: a stated tolerance below the dtype's precision (``shared.compare.default_tolerances``: float32
    1e-4 relative, float64 1e-7) is raised to it, since a correct implementation that merely rounds
    differently would fail it; the least precise floating dtype in the value decides. Without a stated
    tolerance (``None``) the dtype's default applies, per value. ``rtol=0, atol=0`` is an exact check and
    stays exact; an rtol (or atol) of 0 stays 0 (a purely absolute, or relative, check); integers and
    booleans always compare exactly.
    """
    from shared.compare import default_tolerances

    rtol, atol = ref.get("rtol"), ref.get("atol")
    if rtol is None and atol is None or (rtol == 0 and atol == 0):
        return rtol, atol
    dtypes = _float_dtypes(ref.get("value", {}))
    if not dtypes:
        return rtol, atol
    floor_r, floor_a = max(default_tolerances(d) for d in dtypes)
    if rtol is not None and rtol > 0:
        rtol = max(rtol, floor_r)
    if atol is not None and atol > 0:
        atol = max(atol, floor_a)
    return rtol, atol


def _kind(v: Any) -> str:
    if isinstance(v, torch.Tensor):
        return f"a tensor of shape {tuple(v.shape)} and dtype {v.dtype}"
    return f"a {type(v).__name__}"

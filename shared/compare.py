"""Compare values against a reference, with messages that teach.

``torch.testing.assert_close`` tells a student *that* two tensors differ; the
messages here also say *where* and *how* (worst index, how many elements, a
transposed shape, a NaN that points to a division by zero), because that is
what a student needs to find the bug.

The actual value may come from untrusted student code, so it is never asked to
compare itself: its ``__eq__``/``__sub__`` could lie. Only exact built-in types
(``torch.Tensor``, ``torch.nn.Parameter``, ``numpy.ndarray``, numpy scalars,
``bool``/``int``/``float``/``complex``/``str``/``None``, ``list``/``tuple``/
``torch.Size``/``dict``) are accepted; anything else, including subclasses, is a
type mismatch. Values are converted to float64 (or int64/bool) NumPy arrays on
the CPU and compared there, which also handles bfloat16 and CUDA inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from shared._elementwise import compare_values, fmt, from_ndarray, from_number, from_tensor

__all__ = ["assert_close", "compare", "default_tolerances"]

_MAX_DEPTH = 64
# Exact types are looked up by id(): `type(x) in (...)` would call a hostile
# metaclass's __eq__/__hash__, and an id cannot be faked by a live object.
_TENSOR_IDS = frozenset(map(id, (torch.Tensor, torch.nn.Parameter)))
_PYTHON_NUMBER_IDS = frozenset(map(id, (bool, int, float, complex)))
_NUMPY_SCALAR_IDS = frozenset(
    id(t)
    for t in set(np.sctypeDict.values())
    if issubclass(t, (np.number, np.bool_)) and not issubclass(t, np.timedelta64)
)
_SEQUENCE_IDS = frozenset(map(id, (list, tuple, torch.Size)))
_KEY_IDS = frozenset(map(id, (str, int, float, bool, type(None))))

_BASE_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-7, 1e-10),
    torch.float32: (1e-4, 1e-5),
    torch.float16: (2e-3, 1e-3),
    torch.bfloat16: (1.6e-2, 1e-2),
}
_FLOAT8_TOLERANCES = (1.25e-1, 1e-1)


def default_tolerances(dtype: torch.dtype, device_type: str = "cpu") -> tuple[float, float]:
    """Return ``(rtol, atol)`` suited to ``dtype``.

    Roughly a few units in the last place of the format: tighter would flag
    harmless reordering of sums, looser would let real bugs through. Integers
    and booleans compare exactly. Complex types use their real counterpart.
    float32 on CUDA gets 10x more room, because TF32 matmuls and different
    reduction orders legitimately change the low bits.
    """
    if dtype.is_complex:
        dtype = dtype.to_real()
    if not dtype.is_floating_point:
        return 0.0, 0.0
    rtol, atol = _BASE_TOLERANCES.get(dtype, _FLOAT8_TOLERANCES)
    if dtype == torch.float32 and device_type == "cuda":
        rtol, atol = rtol * 10, atol * 10
    return rtol, atol


# --------------------------------------------------------------------------- types


def _type_name(x: object) -> str:
    """Name of ``type(x)`` without calling anything the object controls."""
    t = type(x)
    try:
        # type's own descriptors: a metaclass cannot intercept these lookups
        module = type.__dict__["__module__"].__get__(t)
        qualname = type.__dict__["__qualname__"].__get__(t)
    except Exception:  # noqa: BLE001 - a hostile metaclass must not crash the grader
        return "<unknown type>"
    if type(module) is not str or type(qualname) is not str:
        return "<unknown type>"
    return qualname if module == "builtins" else f"{module}.{qualname}"


def _kind_of(x: object) -> str:
    t = id(type(x))
    if t in _TENSOR_IDS:
        return "tensor"
    if t == id(np.ndarray):
        return "ndarray"
    if t in _PYTHON_NUMBER_IDS or t in _NUMPY_SCALAR_IDS:
        return "number"
    if t == id(str):
        return "str"
    if x is None:
        return "none"
    if t in _SEQUENCE_IDS:
        return "sequence"
    if t == id(dict):
        return "dict"
    return "unsupported"


def _type_hint(actual: object, expected_kind: str) -> str:
    actual_kind = _kind_of(actual)
    if actual_kind == "unsupported":
        mro = type.__dict__["__mro__"].__get__(type(actual))  # the real MRO, no hooks
        if any(base is torch.Tensor for base in mro):
            return " (a subclass of torch.Tensor: return a plain tensor)"
        if any(base is np.ndarray for base in mro):
            return " (a subclass of numpy.ndarray: return a plain array)"
    hints = {
        ("number", "tensor"): " (use .item() to get a Python number)",
        ("tensor", "ndarray"): " (use torch.from_numpy or torch.as_tensor)",
        ("tensor", "number"): " (return a tensor, not a Python number)",
        ("ndarray", "tensor"): " (use .numpy() after .detach().cpu())",
    }
    return hints.get((expected_kind, actual_kind), "")


def _type_message(name: str, actual: object, expected: object) -> str:
    expected_kind = _kind_of(expected)
    return f"{name}: expected {_type_name(expected)}, got {_type_name(actual)}" + _type_hint(actual, expected_kind)


# --------------------------------------------------------------------------- kinds


def _shape_message(name: str, got: tuple[int, ...], want: tuple[int, ...]) -> str:
    msg = f"{name}: expected shape {want}, got {got}"
    if len(want) >= 2 and got == want[::-1]:
        return msg + " (looks transposed)"
    if len(want) > 2 and got == want[:-2] + (want[-1], want[-2]):
        return msg + " (looks transposed: last two dimensions swapped)"
    if tuple(s for s in got if s != 1) == tuple(s for s in want if s != 1):
        return msg + " (differs only in dimensions of size 1: check squeeze/unsqueeze/keepdim)"
    if int(np.prod(got)) == int(np.prod(want)):
        return msg + " (same number of elements: check your reshape/view/permute)"
    return msg


def _resolve(rtol: float | None, atol: float | None, dtype: torch.dtype, device_type: str) -> tuple[float, float]:
    default_rtol, default_atol = default_tolerances(dtype, device_type)
    return (default_rtol if rtol is None else rtol), (default_atol if atol is None else atol)


def _compare_arrays(
    actual: torch.Tensor | np.ndarray,
    expected: torch.Tensor | np.ndarray,
    name: str,
    rtol: float | None,
    atol: float | None,
    check_dtype: bool,
    check_device: bool,
) -> str | None:
    got = tuple(int(s) for s in actual.shape)
    want = tuple(int(s) for s in expected.shape)
    if got != want:
        return _shape_message(name, got, want)
    if check_dtype and actual.dtype != expected.dtype:
        return f"{name}: expected {expected.dtype}, got {actual.dtype}"
    is_tensor = isinstance(expected, torch.Tensor)
    if is_tensor and check_device and actual.device != expected.device:
        return f"{name}: expected device {expected.device}, got {actual.device}"
    convert = from_tensor if is_tensor else from_ndarray
    a, e = convert(actual), convert(expected)  # type: ignore[arg-type]
    if isinstance(e, str):
        raise TypeError(f"compare: the expected value {name} {e}")
    if isinstance(a, str):
        return f"{name}: the value {a}"
    device_type = "cuda" if "cuda" in (a.device_type, e.device_type) else e.device_type
    rtol, atol = _resolve(rtol, atol, e.tol_dtype, device_type)
    return compare_values(a, e, name, rtol, atol)


def _compare_numbers(
    actual: Any, expected: Any, name: str, rtol: float | None, atol: float | None, check_dtype: bool
) -> str | None:
    if type(actual) is int and type(expected) is int and rtol in (None, 0) and atol in (None, 0):
        return None if actual == expected else f"{name}: got {actual}, expected {expected}"
    a, e = from_number(actual), from_number(expected)
    kind_ok = a.kind == e.kind or (e.kind in "fc" and a.kind == "i") or (e.kind, a.kind) == ("c", "f")
    if check_dtype and not kind_ok:
        words = {"b": "a bool", "i": "an integer", "f": "a float", "c": "a complex number"}
        shown = repr(complex(a.array[()])) if a.kind == "c" else fmt(a.array[()])
        return f"{name}: expected {words[e.kind]} ({_type_name(expected)}), got {_type_name(actual)} {shown}"
    rtol, atol = _resolve(rtol, atol, e.tol_dtype, "cpu")
    return compare_values(a, e, name, rtol, atol)


def _short(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


def _compare(
    actual: Any,
    expected: Any,
    name: str,
    rtol: float | None,
    atol: float | None,
    check_dtype: bool,
    check_device: bool,
    depth: int,
) -> str | None:
    if depth > _MAX_DEPTH:
        return f"{name}: nested more than {_MAX_DEPTH} levels deep"
    want, got = _kind_of(expected), _kind_of(actual)
    if want == "unsupported":
        raise TypeError(f"compare: unsupported expected type {_type_name(expected)} for {name}")
    if got != want:
        if want == "none":
            return f"{name}: expected None, got {_type_name(actual)}"
        return _type_message(name, actual, expected)
    if want == "none":
        return None
    if want == "str":
        return None if actual == expected else f"{name}: expected {_short(expected)}, got {_short(actual)}"
    if want == "number":
        return _compare_numbers(actual, expected, name, rtol, atol, check_dtype)
    if want in ("tensor", "ndarray"):
        return _compare_arrays(actual, expected, name, rtol, atol, check_dtype, check_device)
    args = (rtol, atol, check_dtype, check_device, depth + 1)
    if want == "sequence":
        if len(actual) != len(expected):
            return f"{name}: expected a {_type_name(expected)} of length {len(expected)}, got length {len(actual)}"
        for i, (a_item, e_item) in enumerate(zip(actual, expected, strict=True)):
            message = _compare(a_item, e_item, f"{name}[{i}]", *args)
            if message is not None:
                return message
        return None
    # dict: keys must be plain values so that `in` cannot call student code.
    for key in actual:
        if id(type(key)) not in _KEY_IDS:
            return f"{name}: dict keys must be strings or numbers, got a key of type {_type_name(key)}"
    missing = [k for k in expected if k not in actual]
    extra = [k for k in actual if k not in expected]
    if missing or extra:
        parts = [f"missing keys {missing}"] if missing else []
        parts += [f"unexpected keys {extra}"] if extra else []
        return f"{name}: " + "; ".join(parts)
    for key in expected:
        message = _compare(actual[key], expected[key], f"{name}[{key!r}]", *args)
        if message is not None:
            return message
    return None


def compare(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "value",
    check_dtype: bool = True,
    check_device: bool = False,
) -> str | None:
    """Compare ``actual`` with ``expected``; ``None`` if they match, else a message.

    Elements match when ``|actual - expected| <= atol + rtol * |expected|``, NaN
    matches NaN at the same position and an infinity matches one of the same
    sign. ``rtol``/``atol`` default to :func:`default_tolerances` of the
    *expected* dtype (Python floats count as float64). Integers, bools and
    strings compare exactly. Lists, tuples and dicts are compared recursively
    and the message names the first mismatching item, e.g. ``value[2]['w']``.

    For scalars, ``check_dtype`` only checks the kind (bool / integer / float /
    complex), accepting an integer where a float is expected.
    """
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if tol is not None and not (tol >= 0):
            raise ValueError(f"{label} must be a non-negative number, got {tol!r}")
    return _compare(actual, expected, name, rtol, atol, check_dtype, check_device, 0)


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "value",
    check_dtype: bool = True,
    check_device: bool = False,
) -> None:
    """Like :func:`compare`, but raise ``AssertionError`` with the message on mismatch."""
    __tracebackhide__ = True  # pytest: show the caller's line, not this one
    message = compare(
        actual,
        expected,
        rtol=rtol,
        atol=atol,
        name=name,
        check_dtype=check_dtype,
        check_device=check_device,
    )
    if message is not None:
        raise AssertionError(message)

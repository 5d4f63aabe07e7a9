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

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

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
_NAN_ADVICE = "look for a division by zero or log of a non-positive number"

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
        module, qualname = type.__getattribute__(t, "__module__"), t.__qualname__
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
    return f"{name}: expected {_type_name(expected)}, got {_type_name(actual)}" + _type_hint(
        actual, expected_kind
    )


# --------------------------------------------------------------------------- values


@dataclass
class _Values:
    """A value normalised to a NumPy array on the CPU."""

    array: np.ndarray  # float64, complex128, int64/uint64 or bool
    kind: str  # "b", "i", "f" or "c"
    tol_dtype: torch.dtype  # dtype whose default tolerances apply
    device_type: str = "cpu"


def _from_tensor(t: torch.Tensor) -> _Values | str:
    device_type = t.device.type
    dtype = t.dtype
    try:
        t = t.detach()
        if t.is_meta:
            return "is on the meta device and has no values"
        if t.layout != torch.strided:
            t = t.to_dense()
        if t.is_quantized:
            t = t.dequantize()
        t = t.resolve_conj().resolve_neg().cpu()
        if t.is_complex():
            return _Values(t.to(torch.complex128).numpy(), "c", dtype, device_type)
        if t.is_floating_point():
            return _Values(t.to(torch.float64).numpy(), "f", dtype, device_type)
        if t.dtype == torch.bool:
            return _Values(t.numpy().copy(), "b", dtype, device_type)
        return _Values(t.to(torch.int64).numpy(), "i", dtype, device_type)
    except Exception as err:  # noqa: BLE001 - report, do not crash
        return f"could not read its values ({type(err).__name__}: {err})"


def _numpy_tol_dtype(dtype: np.dtype) -> torch.dtype:
    if dtype.kind in "fc":
        real_size = dtype.itemsize // (2 if dtype.kind == "c" else 1)
        return {2: torch.float16, 4: torch.float32}.get(real_size, torch.float64)
    return torch.bool if dtype.kind == "b" else torch.int64


def _from_ndarray(a: np.ndarray) -> _Values | str:
    kind = a.dtype.kind
    tol_dtype = _numpy_tol_dtype(a.dtype)
    if kind == "b":
        return _Values(a.astype(bool), "b", tol_dtype)
    if kind == "i":
        return _Values(a.astype(np.int64), "i", tol_dtype)
    if kind == "u":
        return _Values(a.astype(np.uint64 if a.dtype.itemsize == 8 else np.int64), "i", tol_dtype)
    if kind == "f":
        return _Values(a.astype(np.float64), "f", tol_dtype)
    if kind == "c":
        return _Values(a.astype(np.complex128), "c", tol_dtype)
    return f"has unsupported array dtype {a.dtype} (only bool, integer, float, complex)"


def _from_number(x: bool | int | float | complex | np.generic) -> _Values:
    t = type(x)
    if t is bool:
        return _Values(np.array(x, dtype=bool), "b", torch.bool)
    if t is int:
        if -(2**63) <= x < 2**63:
            return _Values(np.array(x, dtype=np.int64), "i", torch.int64)
        return _Values(np.array(float(x)), "f", torch.int64)  # huge int: exact tolerance
    if t is float:
        return _Values(np.array(x, dtype=np.float64), "f", torch.float64)
    if t is complex:
        return _Values(np.array(x, dtype=np.complex128), "c", torch.complex128)
    values = _from_ndarray(np.asarray(x))
    assert isinstance(values, _Values)  # numpy number types always convert
    return values


def _fmt(v: Any) -> str:
    """Format one element for a message: 4 decimals when readable, else scientific."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if np.isnan(v) or np.isinf(v):
        return str(v)
    return f"{v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e4 else f"{v:.4e}"


def _where(index: tuple[int, ...], complex_parts: bool) -> str:
    part = ""
    if complex_parts:
        part = " (real part)" if index[-1] == 0 else " (imaginary part)"
        index = index[:-1]
    return (f" at index {index}" if index else "") + part


def _compare_values(
    a: _Values, e: _Values, name: str, rtol: float, atol: float
) -> str | None:
    """Elementwise ``|a - e| <= atol + rtol * |e|``; shapes are already equal."""
    total = e.array.size
    if a.kind in "bi" and e.kind in "bi" and rtol == 0 and atol == 0:
        differ = a.array != e.array
        count = int(np.count_nonzero(differ))
        if count == 0:
            return None
        index = tuple(int(i) for i in np.argwhere(differ)[0])
        got, want = _fmt(a.array[index]), _fmt(e.array[index])
        if e.array.ndim == 0:
            return f"{name}: got {got}, expected {want}"
        share = f"{count} of {total} elements ({100 * count / total:.1f}%) differ"
        return f"{name}: {share}; first at index {index} (got {got}, expected {want})"

    complex_parts = "c" in (a.kind, e.kind)
    if complex_parts:
        av = a.array.astype(np.complex128)
        ev = e.array.astype(np.complex128)
        av, ev = np.stack([av.real, av.imag], -1), np.stack([ev.real, ev.imag], -1)
    else:
        av, ev = a.array.astype(np.float64), e.array.astype(np.float64)

    with np.errstate(invalid="ignore", over="ignore"):
        a_nan, e_nan = np.isnan(av), np.isnan(ev)
        a_inf, e_inf = np.isinf(av), np.isinf(ev)
        finite = ~(a_nan | e_nan | a_inf | e_inf)
        err = np.where(finite, np.abs(av - ev), np.inf)
        same_nonfinite = (a_nan & e_nan) | (a_inf & e_inf & (av == ev))
        bad = ~same_nonfinite & ~(finite & (err <= atol + rtol * np.abs(ev)))
    if not bad.any():
        return None

    def first(mask: np.ndarray) -> tuple[int, ...]:
        return tuple(int(i) for i in np.argwhere(mask)[0])

    def n_elements(mask: np.ndarray) -> int:
        return int(np.count_nonzero(mask.any(axis=-1) if complex_parts else mask))

    def count_note(mask: np.ndarray, what: str) -> str:
        count = n_elements(mask)
        return f" ({count} of {total} elements {what})" if total > 1 else ""

    mask = a_nan & ~e_nan
    if mask.any():
        i = first(mask)
        return (
            f"{name}: got NaN{_where(i, complex_parts)}, expected {_fmt(ev[i])}: {_NAN_ADVICE}"
            + count_note(mask, "are NaN where numbers were expected")
        )
    mask = e_nan & ~a_nan
    if mask.any():
        i = first(mask)
        return f"{name}: expected NaN{_where(i, complex_parts)}, got {_fmt(av[i])}" + count_note(
            mask, "should be NaN"
        )
    mask = a_inf & bad
    if mask.any():
        i = first(mask)
        advice = (
            "look for an overflow (e.g. exp of a large number: use the log-sum-exp trick) "
            "or a division by zero"
            if av[i] > 0
            else "look for log(0) or an overflow"
        )
        return (
            f"{name}: got {_fmt(av[i])}{_where(i, complex_parts)}, expected {_fmt(ev[i])}: "
            f"{advice}" + count_note(mask, "are infinite where finite values were expected")
        )
    mask = e_inf & bad
    if mask.any():
        i = first(mask)
        return f"{name}: expected {_fmt(ev[i])}{_where(i, complex_parts)}, got {_fmt(av[i])}"

    i = tuple(int(j) for j in np.unravel_index(np.argmax(np.where(bad, err, -1.0)), err.shape))
    got, want, worst = _fmt(av[i]), _fmt(ev[i]), float(err[i])
    rule = f"atol={atol:g} + rtol={rtol:g}*|expected|"
    if e.array.ndim == 0 and not complex_parts:
        return f"{name}: got {got}, expected {want} (abs error {worst:.1e} exceeds {rule})"
    count = n_elements(bad)
    return (
        f"{name}: max abs error {worst:.1e}{_where(i, complex_parts)} "
        f"(got {got}, expected {want}); "
        f"{count} of {total} elements ({100 * count / total:.1f}%) exceed {rule}"
    )


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


def _resolve(
    rtol: float | None, atol: float | None, dtype: torch.dtype, device_type: str
) -> tuple[float, float]:
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
    convert = _from_tensor if is_tensor else _from_ndarray
    a, e = convert(actual), convert(expected)  # type: ignore[arg-type]
    if isinstance(e, str):
        raise TypeError(f"compare: the expected value {name} {e}")
    if isinstance(a, str):
        return f"{name}: the value {a}"
    device_type = "cuda" if "cuda" in (a.device_type, e.device_type) else e.device_type
    rtol, atol = _resolve(rtol, atol, e.tol_dtype, device_type)
    return _compare_values(a, e, name, rtol, atol)


def _compare_numbers(
    actual: Any, expected: Any, name: str, rtol: float | None, atol: float | None, check_dtype: bool
) -> str | None:
    if type(actual) is int and type(expected) is int and rtol in (None, 0) and atol in (None, 0):
        return None if actual == expected else f"{name}: got {actual}, expected {expected}"
    a, e = _from_number(actual), _from_number(expected)
    kind_ok = a.kind == e.kind or (e.kind in "fc" and a.kind == "i") or (e.kind, a.kind) == ("c", "f")
    if check_dtype and not kind_ok:
        words = {"b": "a bool", "i": "an integer", "f": "a float", "c": "a complex number"}
        shown = repr(complex(a.array[()])) if a.kind == "c" else _fmt(a.array[()])
        return (
            f"{name}: expected {words[e.kind]} ({_type_name(expected)}), "
            f"got {_type_name(actual)} {shown}"
        )
    rtol, atol = _resolve(rtol, atol, e.tol_dtype, "cpu")
    return _compare_values(a, e, name, rtol, atol)


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
            return (
                f"{name}: expected a {_type_name(expected)} of length {len(expected)}, "
                f"got length {len(actual)}"
            )
        for i, (a_item, e_item) in enumerate(zip(actual, expected)):
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

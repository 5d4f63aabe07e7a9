"""Elementwise comparison of values already normalised to NumPy arrays (used by ``shared.compare``).

Everything arrives here as float64/complex128/int64/bool arrays on the CPU, so
the tolerance rule, NaN/inf handling and the wording of value mismatches live
in one place whatever the original container (tensor, array, scalar) was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["Values", "compare_values", "fmt", "from_ndarray", "from_number", "from_tensor"]

_NAN_ADVICE = "look for a division by zero or log of a non-positive number"


@dataclass
class Values:
    """A value normalised to a NumPy array on the CPU."""

    array: np.ndarray  # float64, complex128, int64/uint64 or bool
    kind: str  # "b", "i", "f" or "c"
    tol_dtype: torch.dtype  # dtype whose default tolerances apply
    device_type: str = "cpu"


def from_tensor(t: torch.Tensor) -> Values | str:
    """Detach, densify, move to the CPU and upcast; a str explains values that cannot be read."""
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
            return Values(t.to(torch.complex128).numpy(), "c", dtype, device_type)
        if t.is_floating_point():
            return Values(t.to(torch.float64).numpy(), "f", dtype, device_type)
        if t.dtype == torch.bool:
            return Values(t.numpy().copy(), "b", dtype, device_type)
        return Values(t.to(torch.int64).numpy(), "i", dtype, device_type)
    except Exception as err:  # noqa: BLE001 - report, do not crash
        return f"could not read its values ({type(err).__name__}: {err})"


def _numpy_tol_dtype(dtype: np.dtype) -> torch.dtype:
    if dtype.kind in "fc":
        real_size = dtype.itemsize // (2 if dtype.kind == "c" else 1)
        return {2: torch.float16, 4: torch.float32}.get(real_size, torch.float64)
    return torch.bool if dtype.kind == "b" else torch.int64


def from_ndarray(a: np.ndarray) -> Values | str:
    """Upcast a numeric array; object/str/structured arrays are refused (their items could be anything)."""
    kind = a.dtype.kind
    tol_dtype = _numpy_tol_dtype(a.dtype)
    if kind == "b":
        return Values(a.astype(bool), "b", tol_dtype)
    if kind == "i":
        return Values(a.astype(np.int64), "i", tol_dtype)
    if kind == "u":
        return Values(a.astype(np.uint64 if a.dtype.itemsize == 8 else np.int64), "i", tol_dtype)
    if kind == "f":
        return Values(a.astype(np.float64), "f", tol_dtype)
    if kind == "c":
        return Values(a.astype(np.complex128), "c", tol_dtype)
    return f"has unsupported array dtype {a.dtype} (only bool, integer, float, complex)"


def from_number(x: bool | int | float | complex | np.generic) -> Values:
    """A 0-d array for a Python or NumPy number (ints beyond int64 become floats, compared exactly)."""
    t = type(x)
    if t is bool:
        return Values(np.array(x, dtype=bool), "b", torch.bool)
    if t is int:
        if -(2**63) <= x < 2**63:
            return Values(np.array(x, dtype=np.int64), "i", torch.int64)
        return Values(np.array(float(x)), "f", torch.int64)  # huge int: exact tolerance
    if t is float:
        return Values(np.array(x, dtype=np.float64), "f", torch.float64)
    if t is complex:
        return Values(np.array(x, dtype=np.complex128), "c", torch.complex128)
    values = from_ndarray(np.asarray(x))
    assert isinstance(values, Values)  # numpy number types always convert
    return values


def fmt(v: Any) -> str:
    """Format one element for a message: 4 decimals when readable, else scientific."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if np.isnan(v) or np.isinf(v):
        return str(v)
    return f"{v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e4 else f"{v:.4e}"


def fmt_pair(got: Any, want: Any) -> tuple[str, str]:
    """Both values formatted with as many digits as it takes to see that they differ (a near miss such as
    1.000012 against 1.000031 is not shown as "got 1.0000, expected 1.0000")."""
    a, b = fmt(got), fmt(want)
    if a != b or isinstance(got, (bool, np.bool_, int, np.integer)):
        return a, b
    x, y = float(got), float(want)
    if x == y or not (np.isfinite(x) and np.isfinite(y)):
        return a, b
    for digits in range(5, 18):
        a, b = f"{x:.{digits}g}", f"{y:.{digits}g}"
        if a != b:
            break
    return a, b


def _where(index: tuple[int, ...], complex_parts: bool) -> str:
    part = ""
    if complex_parts:
        part = " (real part)" if index[-1] == 0 else " (imaginary part)"
        index = index[:-1]
    return (f" at index {index}" if index else "") + part


def compare_values(a: Values, e: Values, name: str, rtol: float, atol: float) -> str | None:
    """Elementwise ``|a - e| <= atol + rtol * |e|``; shapes are already equal."""
    total = e.array.size
    if a.kind in "bi" and e.kind in "bi" and rtol == 0 and atol == 0:
        differ = a.array != e.array
        count = int(np.count_nonzero(differ))
        if count == 0:
            return None
        index = tuple(int(i) for i in np.argwhere(differ)[0])
        got, want = fmt_pair(a.array[index], e.array[index])
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
        return f"{name}: got NaN{_where(i, complex_parts)}, expected {fmt(ev[i])}: {_NAN_ADVICE}" + count_note(
            mask, "are NaN where numbers were expected"
        )
    mask = e_nan & ~a_nan
    if mask.any():
        i = first(mask)
        return f"{name}: expected NaN{_where(i, complex_parts)}, got {fmt(av[i])}" + count_note(mask, "should be NaN")
    mask = a_inf & bad
    if mask.any():
        i = first(mask)
        advice = (
            "look for an overflow (e.g. exp of a large number: use the log-sum-exp trick) or a division by zero"
            if av[i] > 0
            else "look for log(0) or an overflow"
        )
        return f"{name}: got {fmt(av[i])}{_where(i, complex_parts)}, expected {fmt(ev[i])}: {advice}" + count_note(
            mask, "are infinite where finite values were expected"
        )
    mask = e_inf & bad
    if mask.any():
        i = first(mask)
        return f"{name}: expected {fmt(ev[i])}{_where(i, complex_parts)}, got {fmt(av[i])}"

    i = tuple(int(j) for j in np.unravel_index(np.argmax(np.where(bad, err, -1.0)), err.shape))
    (got, want), worst = fmt_pair(av[i], ev[i]), float(err[i])
    rule = f"atol={atol:g} + rtol={rtol:g}*|expected|"
    if e.array.ndim == 0 and not complex_parts:
        return f"{name}: got {got}, expected {want} (abs error {worst:.1e} exceeds {rule})"
    count = n_elements(bad)
    return (
        f"{name}: max abs error {worst:.1e}{_where(i, complex_parts)} "
        f"(got {got}, expected {want}); "
        f"{count} of {total} elements ({100 * count / total:.1f}%) exceed {rule}"
    )

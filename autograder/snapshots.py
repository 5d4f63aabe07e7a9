"""``snapshots.json``: the public tests' reference observations, stored so any machine writes the same bytes.

Floating-point results differ in their last bits between machines (other BLAS kernels, other
reduction orders). A snapshot therefore stores every float rounded to a number of significant
digits far inside the comparison tolerance of its dtype (float64: 10 digits against an rtol of
1e-7; float32: 6 digits against 1e-4), and regenerating keeps a stored value whenever the new
one agrees with it to a quarter of the tolerance the test judges it with (its own rtol/atol, else
the dtype's): values that moved only by rounding noise (another CPU's kernels, another thread
count: float32 results of a few training steps move by a few percent of the tolerance) write the
same file, values that really changed are rewritten.

Only the standard library, numpy and torch: this module ships in the student bundle (``check()``
reads snapshots with it), while computing them (``reference.write_snapshots``) stays with the
instructor.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

FORMAT = 2
DIGITS = {"float64": 10, "float32": 6, "float16": 3, "bfloat16": 2, "complex128": 10, "complex64": 6,
          "complex32": 3}
DEFAULT_DIGITS = 10  # Python floats, float64 arrays
KEEP_FRACTION = 0.25  # a stored value is kept when the new one is this close, as a share of the tolerance


class SnapshotError(Exception):
    """A snapshot file is missing or unreadable (the instructor runs ``make snapshots``)."""


def _round(arr: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant decimal digits (correctly rounded, the same on every machine)."""
    flat = arr.reshape(-1)
    if np.iscomplexobj(flat):
        return (_round(flat.real.copy(), digits) + 1j * _round(flat.imag.copy(), digits)).reshape(arr.shape)
    out = np.array([float(f"{v:.{digits - 1}e}") if np.isfinite(v) else v for v in flat.tolist()],
                   dtype=np.float64)
    return out.reshape(arr.shape)


def _store_dtype(value: dict) -> np.dtype:
    return np.dtype(np.complex128 if "complex" in value["dtype"] else np.float64)


def canonical(value: dict) -> dict:
    """An encoded observation (``observations.encode``) with its floats rounded for storage."""
    kind = value.get("kind")
    if kind in ("tensor", "ndarray") and ("float" in value["dtype"] or "complex" in value["dtype"]):
        dt = _store_dtype(value)
        arr = np.frombuffer(base64.b64decode(value["data"]), dtype=dt)
        rounded = _round(arr, DIGITS.get(value["dtype"], DEFAULT_DIGITS))
        return {**value, "data": base64.b64encode(rounded.astype(dt).tobytes()).decode()}
    if kind == "float" and isinstance(value["v"], float):
        return {**value, "v": float(f"{value['v']:.{DEFAULT_DIGITS - 1}e}")}
    if kind == "list":
        return {**value, "items": [canonical(v) for v in value["items"]]}
    if kind == "dict":
        return {**value, "items": [[k, canonical(v)] for k, v in value["items"]]}
    return value


def _tolerances(dtype: str, rtol: float | None, atol: float | None) -> tuple[float, float]:
    """The test's own tolerances where it gave them, else the defaults for ``dtype``."""
    import torch

    from shared.compare import default_tolerances

    rt, at = default_tolerances(getattr(torch, dtype))
    return rt if rtol is None else rtol, at if atol is None else atol


def _close(new: dict, old: dict, rtol: float | None = None, atol: float | None = None) -> bool:
    """``new`` matches ``old`` to a fraction of the tolerance the test would judge them with (``rtol``
    and ``atol`` when the test gave them, else the dtype's defaults)."""
    if new.get("kind") != old.get("kind"):
        return False
    kind = new.get("kind")
    if kind in ("tensor", "ndarray"):
        if (new["dtype"], new["shape"], new.get("device")) != (old["dtype"], old["shape"], old.get("device")):
            return False
        if not ("float" in new["dtype"] or "complex" in new["dtype"]):
            return new["data"] == old["data"]
        rtol, atol = _tolerances(new["dtype"] if kind == "tensor" else "float64", rtol, atol)
        dt = _store_dtype(new)
        a = np.frombuffer(base64.b64decode(new["data"]), dtype=dt)
        b = np.frombuffer(base64.b64decode(old["data"]), dtype=dt)
        return bool(np.allclose(a, b, rtol=rtol * KEEP_FRACTION, atol=atol * KEEP_FRACTION, equal_nan=True))
    if kind == "float":
        a, b = float(new["v"]), float(old["v"])
        rtol, atol = _tolerances("float64", rtol, atol)
        return a == b or abs(a - b) <= (atol + rtol * abs(b)) * KEEP_FRACTION
    if kind in ("list", "dict"):
        if len(new["items"]) != len(old["items"]):
            return False
        if kind == "dict":
            pairs = [(v1, v2) for (k1, v1), (k2, v2) in zip(new["items"], old["items"]) if k1 == k2]
            return len(pairs) == len(new["items"]) and all(_close(v1, v2, rtol, atol) for v1, v2 in pairs)
        return all(_close(v1, v2, rtol, atol) for v1, v2 in zip(new["items"], old["items"]))
    return new == old


def stable(records: list[dict], previous: list[dict] | None) -> list[dict]:
    """One test's observations as stored: rounded, and the previous value kept where it still holds."""
    out = []
    for i, rec in enumerate(records):
        value = canonical(rec["value"])
        if previous and i < len(previous):
            old = previous[i]
            same_meta = all(old.get(k) == rec.get(k) for k in ("name", "rtol", "atol"))
            if same_meta and canonical(old["value"]) == old["value"] and _close(value, old["value"], rec.get("rtol"),
                                                                                 rec.get("atol")):
                value = old["value"]
        out.append({**rec, "value": value})
    return out


def snapshot_text(assignment_id: str, observations: dict[str, list[dict]],
                  previous: dict[str, list[dict]] | None = None) -> str:
    """The file's bytes for these reference observations (``previous``: what the file held before)."""
    previous = previous or {}
    tests = {cid: stable(obs, previous.get(cid)) for cid, obs in observations.items()}
    data = {"format": FORMAT, "assignment": assignment_id, "tests": tests}
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def read(path: Path) -> dict[str, list[dict]]:
    """The stored observations by test id (an empty dict when the file is absent or unreadable)."""
    try:
        return json.loads(path.read_text())["tests"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def load(path: Path) -> dict[str, list[dict]]:
    if not path.exists():
        raise SnapshotError(f"{path.parent.name}/{path.name} is missing: the instructor runs `make snapshots`")
    try:
        return json.loads(path.read_text())["tests"]
    except (ValueError, KeyError, TypeError) as e:
        raise SnapshotError(f"{path.parent.name}/{path.name} cannot be read ({type(e).__name__}): "
                            "download the course bundle again") from None

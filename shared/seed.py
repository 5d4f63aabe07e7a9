"""Reproducible randomness: seed every generator at once, temporarily if needed.

A notebook that draws from Python's ``random``, NumPy and PyTorch must seed all
three, or two runs differ in ways students cannot explain. :func:`temp_seed`
lets a helper (e.g. a plot that samples points) be deterministic without
silently changing the random stream of the code around it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from .device import cuda_available, mps_available

__all__ = ["seed_everything", "stable_hash", "temp_seed"]

_NUMPY_SEED_RANGE = 2**32


def _check_seed(seed: int) -> int:
    if type(seed) is not int and not isinstance(seed, np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return int(seed)


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    ``torch.cuda.manual_seed_all`` is lazy: on a machine without an initialised
    CUDA context it only records the seed, so this never forces CUDA to start.
    NumPy only accepts seeds in ``[0, 2**32)``; other ints are reduced modulo
    ``2**32`` so that any int (e.g. a :func:`stable_hash`) is a valid seed.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % _NUMPY_SEED_RANGE)
    if cuda_available() or mps_available():
        torch.manual_seed(seed)  # CPU and the accelerators' generators (CUDA lazily: it is not started for it)
        torch.cuda.manual_seed_all(seed)
    else:  # only the CPU generator to seed: torch.manual_seed would also queue a lazy seed for every other
        torch.random.default_generator.manual_seed(seed)  # backend, recording the Python stack each time


def _get_states() -> dict[str, Any]:
    states: dict[str, Any] = {
        "random": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    # Reading CUDA states would initialise CUDA; only do it if it already is.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _set_states(states: dict[str, Any]) -> None:
    random.setstate(states["random"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states:
        torch.cuda.set_rng_state_all(states["cuda"])


@contextmanager
def temp_seed(seed: int) -> Iterator[None]:
    """Run a block with every generator seeded, then restore the previous states.

    Usage::

        with temp_seed(0):
            X = torch.randn(10, 2)   # same X on every run
        # the global random streams continue as if the block never ran

    Restoration happens even if the block raises. CUDA states are restored only
    if CUDA was already initialised on entry (saving them otherwise would
    initialise CUDA just to read them).
    """
    seed = _check_seed(seed)
    saved = _get_states()
    try:
        seed_everything(seed)
        yield
    finally:
        _set_states(saved)


def stable_hash(text: str) -> int:
    """A deterministic 31-bit hash of ``text``, for deriving seeds from names.

    Python's built-in ``hash`` of a string is salted per process
    (``PYTHONHASHSEED``), so it would give a different seed on every run.
    The result is in ``[0, 2**31)``: valid for every seeding API.
    """
    if type(text) is not str:
        raise TypeError(f"stable_hash expects a str, got {type(text).__name__}")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF

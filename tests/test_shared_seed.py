"""Tests of shared.seed: global seeding, temporary seeding and stable hashes."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from shared.seed import seed_everything, stable_hash, temp_seed

REPO = Path(__file__).resolve().parents[1]


def _draw() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_seed_everything_makes_all_generators_reproducible() -> None:
    seed_everything(123)
    first = _draw()
    seed_everything(123)
    assert _draw() == first
    seed_everything(124)
    assert _draw() != first


@pytest.mark.parametrize("backend", ["cuda", "mps"])
def test_seed_everything_seeds_an_accelerator_where_there_is_one(monkeypatch, backend) -> None:
    """Without an accelerator only the CPU generator is seeded (torch.manual_seed would queue lazy seeds for every
    backend); where CUDA or Apple's MPS is present, torch.manual_seed seeds its generator as well."""
    seeded = []
    monkeypatch.setattr(torch, "manual_seed", lambda s: seeded.append(s))
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda s: None)
    seed_everything(5)
    assert seeded == ([5] if torch.cuda.is_available() or torch.backends.mps.is_available() else [])
    if backend == "cuda":
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    else:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    seeded.clear()
    seed_everything(5)
    assert seeded == [5]


def test_seed_everything_accepts_large_and_negative_ints() -> None:
    seed_everything(2**40 + 5)
    a = _draw()
    seed_everything(2**40 + 5)
    assert _draw() == a
    seed_everything(-1)  # numpy only takes [0, 2**32): reduced modulo
    np.random.rand()


def test_seed_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        seed_everything(1.5)  # type: ignore[arg-type]


def test_temp_seed_is_deterministic_inside() -> None:
    with temp_seed(7):
        inside = _draw()
    with temp_seed(7):
        assert _draw() == inside


def test_temp_seed_restores_previous_streams() -> None:
    seed_everything(0)
    expected = [_draw(), _draw()]
    seed_everything(0)
    got = [_draw()]
    with temp_seed(99):
        _draw()
        torch.randn(100)
    got.append(_draw())
    assert got == expected


def test_temp_seed_restores_on_exception() -> None:
    seed_everything(5)
    expected = _draw()
    seed_everything(5)
    with pytest.raises(ZeroDivisionError), temp_seed(1):
        _draw()
        1 / 0  # noqa: B018
    assert _draw() == expected


def test_stable_hash_is_sha256_prefix_in_31_bits() -> None:
    value = stable_hash("adam: test_trajectory[False]")
    digest = hashlib.sha256(b"adam: test_trajectory[False]").digest()
    assert value == int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
    assert 0 <= value < 2**31
    assert stable_hash("a") != stable_hash("b")
    with pytest.raises(TypeError):
        stable_hash(b"bytes")  # type: ignore[arg-type]


def test_fresh_process_same_hash_and_light_package_import() -> None:
    """A child with another PYTHONHASHSEED gets the same hash; `import shared` loads no heavy modules."""
    code = (  # torch itself imports tqdm (torch.hub), so only count what `shared` adds
        "import sys, torch; before = set(sys.modules); import shared; print(shared.stable_hash('muon')); "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ('matplotlib', 'sklearn', 'tqdm')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    hash_line, heavy_line = result.stdout.strip().splitlines()
    assert hash_line == str(stable_hash("muon"))
    assert heavy_line == "[]"

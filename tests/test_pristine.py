"""The snapshot that undoes a submission's monkeypatches (``autograder.pristine``), with and without the
dict version tags that let it skip what did not change."""

from __future__ import annotations

import importlib

import pytest
import torch

from autograder import pristine
from autograder.pristine import Pristine

COMPARE = importlib.import_module("shared.compare")


def test_this_python_keeps_version_tags():
    """The fast path is in use where the grader runs (CPython 3.11): a silent fallback would cost every
    question's process about 10 ms of copied pages."""
    assert pristine._tags() is not None
    assert Pristine().tags


@pytest.mark.parametrize("tags", [True, False], ids=["version-tags", "compare-all"])
def test_restore_undoes_and_names_every_kind_of_change(tags, monkeypatch):
    snap = Pristine()
    if not tags:
        snap.tags = []
    assert snap.restore() == [] and snap.restore() == []
    original_allclose, original_compare = torch.allclose, COMPARE.compare
    try:
        torch.allclose = lambda *a, **k: True  # a module's attribute swapped
        torch.Tensor.abs = lambda self: self  # a class gains what shadows its C base's method
        COMPARE.compare = lambda *a, **k: None  # the course package's helper
        torch.nn.Linear.forward_extra = 1  # an addition to a class
        changed = snap.restore()
    finally:
        torch.allclose, COMPARE.compare = original_allclose, original_compare
        for cls, name in ((torch.Tensor, "abs"), (torch.nn.Linear, "forward_extra")):
            if name in vars(cls):
                delattr(cls, name)
    assert set(changed) >= {"torch.allclose", "torch.Tensor.abs", "shared.compare.compare",
                            "torch.nn.Linear.forward_extra"}
    assert torch.allclose is original_allclose and COMPARE.compare is original_compare
    assert "abs" not in vars(torch.Tensor) and "forward_extra" not in vars(torch.nn.Linear)
    assert torch.ones(2).abs().tolist() == [1.0, 1.0]
    assert snap.restore() == []
    torch.allclose = lambda *a, **k: True  # a second change after a clean restore is found again
    try:
        assert snap.restore() == ["torch.allclose"]
    finally:
        torch.allclose = original_allclose


def test_a_swap_back_to_the_same_object_is_no_change():
    snap = Pristine()
    snap.restore()
    torch.allclose = torch.allclose
    assert snap.restore() == []

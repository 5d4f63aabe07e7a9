"""Tests of shared.data: offline datasets, their shapes, splits and determinism."""

from __future__ import annotations

import pytest
import torch

from shared.data import (
    IGNORE_INDEX,
    CharTokenizer,
    copy_task,
    digits_loaders,
    digits_tensors,
    induction_task,
    moons,
    parity_task,
    spirals,
    stdlib_text,
    swiss_roll_2d,
)

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


def test_digits_shapes_ranges_and_split_sizes() -> None:
    train, val = digits_tensors()
    X_train, y_train = train.tensors
    X_val, y_val = val.tensors
    assert len(train) + len(val) == 1797
    assert (len(train), len(val)) == (1437, 360)
    assert X_train.shape == (1437, 64) and X_train.dtype == torch.float32
    assert y_train.shape == (1437,) and y_train.dtype == torch.long
    assert 0.0 <= float(X_train.min()) and float(X_train.max()) <= 1.0
    assert set(y_train.tolist()) == set(range(10)) == set(y_val.tolist())
    # stratified: every class keeps about 20% of its examples in validation
    counts = torch.bincount(y_val, minlength=10)
    assert int(counts.min()) >= 34 and int(counts.max()) <= 38


def test_digits_split_is_deterministic_in_seed() -> None:
    a_train, a_val = digits_tensors(seed=0)
    b_train, _ = digits_tensors(seed=0)
    c_train, _ = digits_tensors(seed=1)
    assert torch.equal(a_train.tensors[0], b_train.tensors[0])
    assert not torch.equal(a_train.tensors[0], c_train.tensors[0])
    # train and validation never share an example index: rows are distinct images overall
    together = torch.cat([a_train.tensors[0], a_val.tensors[0]])
    assert together.shape == (1797, 64)


def test_digits_dtype_and_no_validation() -> None:
    train, val = digits_tensors(val_fraction=0.0, dtype=torch.float64)
    assert len(train) == 1797 and len(val) == 0
    assert train.tensors[0].dtype == torch.float64
    with pytest.raises(ValueError):
        digits_tensors(val_fraction=1.0)


def test_digits_loaders_batches_and_reproducible_shuffle() -> None:
    train_loader, val_loader = digits_loaders(batch_size=100, seed=3)
    x, y = next(iter(train_loader))
    assert x.shape == (100, 64) and y.shape == (100,)
    assert x.device.type == "cpu"
    assert len(train_loader) == 15 and len(val_loader) == 4
    again, _ = digits_loaders(batch_size=100, seed=3)
    assert torch.equal(next(iter(again))[1], y)
    val_first = next(iter(val_loader))[1]
    assert torch.equal(val_first, next(iter(val_loader))[1])  # validation is not shuffled


@requires_cuda
def test_digits_loaders_on_cuda() -> None:
    train_loader, _ = digits_loaders(batch_size=32, device="cuda")
    x, y = next(iter(train_loader))
    assert x.device.type == "cuda" and y.device.type == "cuda"


def test_2d_toy_datasets() -> None:
    X, y = moons(n=100, seed=1)
    assert X.shape == (100, 2) and X.dtype == torch.float32
    assert y.dtype == torch.long and set(y.tolist()) == {0, 1}
    assert torch.equal(moons(n=100, seed=1)[0], X)
    roll = swiss_roll_2d(n=300)
    assert roll.shape == (300, 2) and roll.dtype == torch.float32
    assert float(roll.abs().max()) < 2.0
    Xs, ys = spirals(n=100, classes=3)
    assert Xs.shape == (100, 2) and torch.bincount(ys).tolist() == [34, 33, 33]
    assert torch.equal(spirals(n=100, classes=3)[0], Xs)
    assert not torch.equal(spirals(n=100, classes=3, seed=1)[0], Xs)


def test_copy_task_structure() -> None:
    x, y = copy_task(n=8, seq_len=5, vocab=10, seed=0)
    assert x.shape == y.shape == (8, 10) and x.dtype == y.dtype == torch.long
    assert bool((x[:, :5] >= 1).all()) and bool((x[:, :5] < 10).all())
    assert bool((x[:, 5] == 0).all())  # separator
    assert torch.equal(x[:, 6:], x[:, :4])
    assert bool((y[:, :5] == IGNORE_INDEX).all())
    assert torch.equal(y[:, 5:], x[:, :5])
    # y is the next token wherever it is defined
    assert torch.equal(y[:, 5:-1], x[:, 6:])
    assert torch.equal(copy_task(8, 5, 10, seed=0)[0], x)


def test_parity_task() -> None:
    x, y = parity_task(n=50, seq_len=7, seed=0)
    assert x.shape == (50, 7) and y.shape == (50,)
    assert set(x.unique().tolist()) <= {0, 1}
    assert torch.equal(y, x.sum(1) % 2)


def test_induction_task_second_half_is_predictable() -> None:
    x, y = induction_task(n=16, seq_len=12, vocab=20, seed=0)
    assert x.shape == y.shape == (16, 12)
    assert torch.equal(x[:, 6:], x[:, :6])
    assert all(len(set(row[:6].tolist())) == 6 for row in x)  # distinct prefix tokens
    mask = y != IGNORE_INDEX
    assert mask[:, 6:11].all() and not mask[:, :6].any() and not mask[:, 11].any()
    assert torch.equal(y[:, 6:11], x[:, 7:12])
    odd, _ = induction_task(n=4, seq_len=7, vocab=5)
    assert odd.shape == (4, 7) and torch.equal(odd[:, 4:], odd[:, :3])


def test_stdlib_text_is_deterministic_and_bounded() -> None:
    text = stdlib_text(max_chars=50_000)
    assert len(text) == 50_000
    assert text.startswith("# ===== json/__init__.py =====\n")
    assert stdlib_text(max_chars=50_000) == text
    small = stdlib_text(max_chars=10**9, modules=("bisect",))
    assert small.startswith("# ===== bisect.py =====\n") and "def insort" in small


def test_char_tokenizer_round_trip() -> None:
    text = "hello world"
    tok = CharTokenizer(text)
    assert tok.vocab_size == len(set(text)) == len(tok)
    ids = tok.encode("world")
    assert ids.dtype == torch.long and ids.shape == (5,)
    assert tok.decode(ids) == "world" and tok.decode(ids.tolist()) == "world"
    assert tok.chars == sorted(set(text))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("xyz")
    assert CharTokenizer().fit("ba").encode("ab").tolist() == [0, 1]

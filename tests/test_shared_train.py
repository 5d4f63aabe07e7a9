"""Tests of shared.train: the loop learns, records its metrics, follows schedules and stops on divergence."""

from __future__ import annotations

import math
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from shared.data import digits_loaders
from shared.models import MLP
from shared.train import History, evaluate, train


def test_history_behaves_like_a_dict() -> None:
    h = History()
    h.add("train_loss", 2.0)
    h.add("train_loss", torch.tensor(1.5))  # type: ignore[arg-type]
    assert h == {"train_loss": [2.0, 1.5]} and h.last("train_loss") == 1.5
    with pytest.raises(KeyError, match="val_loss"):
        h.last("val_loss")
    restored = pickle.loads(pickle.dumps(h))
    assert restored == h and restored.diverged_at is None


def test_train_reduces_loss_on_digits() -> None:
    torch.manual_seed(0)
    train_loader, val_loader = digits_loaders(batch_size=64, seed=0)
    model = MLP(64, 64, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    before_loss, before_acc = evaluate(model, val_loader)
    history = train(model, optimizer, train_loader, epochs=3, val_loader=val_loader, progress=False)
    steps = 3 * len(train_loader)
    assert len(history["train_loss"]) == len(history["lr"]) == steps
    assert len(history["val_loss"]) == len(history["val_acc"]) == 3
    assert history.last("val_loss") < 0.5 * before_loss
    assert history.last("val_acc") > 0.85 > before_acc
    first, last = history["train_loss"][:10], history["train_loss"][-10:]
    assert sum(last) < 0.3 * sum(first)
    assert history["lr"] == [5e-3] * steps
    assert model.training  # left in training mode


def _tiny_regression(n: int = 32) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
    return DataLoader(TensorDataset(X, y), batch_size=8)


def test_lr_schedule_multiplies_each_groups_initial_lr_and_max_steps() -> None:
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD([{"params": [model.weight], "lr": 0.1}, {"params": [model.bias], "lr": 0.01}])
    seen: list[tuple[float, float]] = []

    def schedule(step: int) -> float:
        return 1.0 / (step + 1)

    class Spy(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[1]["lr"]))
            return model(x)

    history = train(
        Spy(),
        optimizer,
        _tiny_regression(),
        epochs=5,
        loss_fn=F.mse_loss,
        lr_schedule=schedule,
        max_steps=6,
        progress=False,
    )
    assert len(history["train_loss"]) == 6
    assert history["lr"] == pytest.approx([0.1 / (s + 1) for s in range(6)])
    assert [lr for pair in seen for lr in pair] == pytest.approx([lr / (s + 1) for s in range(6) for lr in (0.1, 0.01)])
    assert optimizer.param_groups[1]["initial_lr"] == 0.01


def test_evaluate_weights_batches_and_regression_accuracy_is_nan() -> None:
    model = torch.nn.Linear(3, 1)
    loader = _tiny_regression(n=30)  # batches of 8, 8, 8, 6
    loss, acc = evaluate(model, loader, F.mse_loss)
    X, y = loader.dataset.tensors  # type: ignore[attr-defined]
    with torch.no_grad():
        assert loss == pytest.approx(F.mse_loss(model(X), y).item(), rel=1e-5)
    assert math.isnan(acc)


def test_stops_when_the_loss_diverges() -> None:
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e6)
    history = train(model, optimizer, _tiny_regression(), epochs=20, loss_fn=F.mse_loss, progress=False)
    assert history.diverged_at is not None
    assert len(history["train_loss"]) == history.diverged_at + 1 < 80
    assert not math.isfinite(history.last("train_loss"))


def test_progress_bar_runs_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    train(model, optimizer, _tiny_regression(), epochs=1, loss_fn=F.mse_loss, progress=True, desc="quiet")
    captured = capsys.readouterr()
    assert "quiet" not in captured.out + captured.err  # not a terminal: tqdm stays silent

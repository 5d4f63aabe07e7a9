"""A plain, readable training loop for the course's experiments.

Assignments are about optimizers, schedules and parametrisations, not about
boilerplate, so one small loop is shared: it records what the plots need
(``train_loss`` and ``lr`` per step, ``val_loss``/``val_acc`` per epoch) and
stops early when the loss blows up, which learning-rate sweeps rely on.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["History", "OptimizerLike", "evaluate", "train"]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class OptimizerLike(Protocol):
    """What :func:`train` needs: a ``torch.optim.Optimizer`` or a wrapper around several."""

    @property
    def param_groups(self) -> list[dict[str, Any]]: ...

    def zero_grad(self, set_to_none: bool = True) -> None: ...

    def step(self, closure: Any = None) -> Any: ...


class History(dict[str, list[float]]):
    """Metric name -> list of values, e.g. ``history["train_loss"][step]``.

    A dict so that it prints, pickles and JSON-dumps like one.
    ``diverged_at`` is the step at which the loss became NaN/inf (else ``None``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.diverged_at: int | None = None

    def add(self, key: str, value: float) -> None:
        """Append ``value`` to the list for ``key`` (created on first use)."""
        self.setdefault(key, []).append(float(value))

    def last(self, key: str) -> float:
        """Latest value recorded for ``key``; ``KeyError`` if there is none."""
        values = self.get(key)
        if not values:
            raise KeyError(f"no values recorded for {key!r} (recorded: {sorted(self)})")
        return values[-1]


def _model_device(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def _split_batch(batch: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(batch, (list, tuple)) or len(batch) < 2:
        raise TypeError("loaders must yield (inputs, targets) pairs")
    x, y = batch[0], batch[1]
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable[Any], loss_fn: LossFn = F.cross_entropy) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader``.

    Losses are weighted by batch size, so a smaller last batch does not skew
    the mean. Accuracy is ``argmax(logits, -1) == y`` and is NaN when the
    targets are not class indices (e.g. regression). The model's train/eval
    mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    device = _model_device(model)
    total_loss, correct, count, classify = 0.0, 0, 0, True
    try:
        for batch in loader:
            x, y = _split_batch(batch, device)
            logits = model(x)  # (B, C)
            n = y.shape[0]
            total_loss += float(loss_fn(logits, y)) * n
            count += n
            if classify and not y.is_floating_point() and logits.dim() == y.dim() + 1:
                correct += int((logits.argmax(dim=-1) == y).sum())
            else:
                classify = False
    finally:
        model.train(was_training)
    if count == 0:
        return math.nan, math.nan
    return total_loss / count, (correct / count if classify else math.nan)


def _progress_disabled(progress: bool) -> bool | None:
    """``None`` lets tqdm hide bars when stderr is not a terminal (CI logs stay clean).

    Jupyter's stderr is not a terminal either, but bars are wanted there.
    """
    if not progress:
        return True
    return False if _in_kernel() else None


def _in_kernel() -> bool:
    """True inside a running Jupyter kernel (merely importing ipykernel does not count)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and "ipykernel" in type(shell).__module__


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | OptimizerLike,
    train_loader: Iterable[Any],
    *,
    epochs: int = 1,
    loss_fn: LossFn = F.cross_entropy,
    val_loader: Iterable[Any] | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    max_steps: int | None = None,
    device: torch.device | str | None = None,
    desc: str = "train",
    progress: bool = True,
    stop_on_nonfinite: bool = True,
) -> History:
    """Train ``model`` and return its :class:`History`.

    Records ``train_loss`` and ``lr`` (of the first parameter group) at every
    step, and ``val_loss``/``val_acc`` after every epoch when ``val_loader`` is
    given (also after a final partial epoch cut short by ``max_steps``).

    ``lr_schedule(step)`` returns a *multiplier*, not a learning rate: each
    parameter group's learning rate is set to ``initial_lr * lr_schedule(step)``
    before the step, where ``initial_lr`` is stored in the group on first use.
    Groups with different learning rates (muP) therefore keep their ratios.
    Steps count from 0 in every call.

    ``device=None`` uses the device of the model's parameters; a given device
    moves the model there. With ``stop_on_nonfinite`` training stops at the
    first NaN/inf loss and ``history.diverged_at`` records the step.
    """
    from tqdm.auto import tqdm

    if device is not None:
        model.to(device)
    run_device = torch.device(device) if device is not None else _model_device(model)
    if lr_schedule is not None:
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", float(group["lr"]))

    history = History()
    try:
        per_epoch = len(train_loader)  # type: ignore[arg-type]
        total: int | None = per_epoch * epochs
    except TypeError:
        total = None
    if max_steps is not None:
        total = max_steps if total is None else min(total, max_steps)

    step = 0
    bar = tqdm(total=total, desc=desc, disable=_progress_disabled(progress), leave=False)
    model.train()
    try:
        for _epoch in range(epochs):
            if max_steps is not None and step >= max_steps:
                break
            for batch in train_loader:
                if max_steps is not None and step >= max_steps:
                    break
                if lr_schedule is not None:
                    factor = float(lr_schedule(step))
                    for group in optimizer.param_groups:
                        group["lr"] = group["initial_lr"] * factor
                x, y = _split_batch(batch, run_device)
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()

                value = float(loss.detach())
                history.add("train_loss", value)
                history.add("lr", float(optimizer.param_groups[0]["lr"]))
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}", refresh=False)
                if stop_on_nonfinite and not math.isfinite(value):
                    history.diverged_at = step - 1
                    bar.set_postfix(loss="diverged", refresh=False)
                    return history
            if val_loader is not None:
                val_loss, val_acc = evaluate(model, val_loader, loss_fn)
                history.add("val_loss", val_loss)
                history.add("val_acc", val_acc)
                model.train()
    finally:
        bar.close()
    return history

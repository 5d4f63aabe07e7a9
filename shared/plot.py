"""Plots used across assignments; every function draws on an optional ``ax`` and returns it.

Taking ``ax`` lets notebooks compose figures (``fig, axes = plt.subplots(1, 3)``)
and lets tests run headless with the Agg backend. Nothing here calls
``plt.show()``: notebooks display figures themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn

__all__ = [
    "plot_coord_check",
    "plot_curves",
    "plot_decision_boundary",
    "plot_lr_schedule",
    "plot_singular_values",
    "show_images",
]


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.0, 3.5)) -> Axes:
    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average of the same length (the first points average fewer values)."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (cumsum[idx] - cumsum[start]) / (idx - start)


def plot_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    key: str = "train_loss",
    ax: Axes | None = None,
    smooth: int = 1,
    log: bool = False,
    title: str | None = None,
) -> Axes:
    """One line per run: ``histories[run][key]`` against step (or epoch for ``val_*`` keys).

    ``smooth`` is a trailing moving-average window: per-step losses are noisy
    and comparing optimizers by eye needs the trend. Runs without ``key`` are
    skipped; a diverged run simply ends early.
    """
    ax = _axes(ax)
    for label, history in histories.items():
        if key not in history or len(history[key]) == 0:
            continue
        values = _smooth(np.asarray(history[key], dtype=np.float64), smooth)
        start = 1 if key.startswith("val_") else 0
        ax.plot(np.arange(start, start + len(values)), values, label=str(label))
    ax.set_xlabel("epoch" if key.startswith("val_") else "step")
    ax.set_ylabel(key + (f" (smoothed over {smooth})" if smooth > 1 else ""))
    if log:
        ax.set_yscale("log")
    if title is not None:
        ax.set_title(title)
    if histories:
        ax.legend()
    return ax


def plot_singular_values(
    before: torch.Tensor,
    after: torch.Tensor,
    ax: Axes | None = None,
    labels: tuple[str, str] = ("before", "after"),
) -> Axes:
    """Sorted singular values of two matrices, e.g. a gradient before/after Newton-Schulz.

    Each argument is a matrix ``(m, n)`` or a vector of its singular values
    (any order; they are sorted, largest first).

    Orthogonalisation should push every singular value towards 1; plotting the
    spectra side by side shows how close an approximation gets.
    """
    ax = _axes(ax)
    for matrix, label in zip((before, after), labels, strict=True):
        m = matrix.detach().to("cpu", torch.float64)
        if m.dim() == 2:
            s = torch.linalg.svdvals(m).numpy()  # (min(rows, cols),), descending
        elif m.dim() == 1:  # already singular values (e.g. computed without an SVD)
            s = np.sort(m.numpy())[::-1]
        else:
            raise ValueError(f"expected a 2-D matrix or a 1-D vector of singular values, got shape {tuple(m.shape)}")
        ax.plot(np.arange(1, len(s) + 1), s, marker=".", label=label)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("index (sorted)")
    ax.set_ylabel("singular value")
    ax.legend()
    return ax


def plot_lr_schedule(fn: Callable[[int], float], total_steps: int, ax: Axes | None = None) -> Axes:
    """``fn(step)`` for ``step = 0 .. total_steps - 1``: see warmup and decay before training."""
    ax = _axes(ax)
    steps = np.arange(total_steps)
    ax.plot(steps, [float(fn(int(s))) for s in steps])
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate (multiplier)")
    return ax


def plot_coord_check(
    widths: Sequence[int],
    stats: Mapping[str, Sequence[Sequence[float]]],
    ax: Axes | Sequence[Axes] | None = None,
    *,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """muP coordinate check: one panel per parametrisation, one line per layer.

    ``stats[name][i][layer]`` is the mean ``|activation|`` of ``layer`` for a
    model of width ``widths[i]`` (e.g. from ``MLP(..., return_activations=True)``).
    Under a correct muP every line stays roughly flat as width grows; under the
    standard parametrisation the output layer's line climbs. Panels share the
    y-axis so the two can be compared. Returns the list of Axes used
    (pass ``ax``/``axes`` with one Axes per parametrisation to reuse a figure).
    """
    names = list(stats)
    given = axes if axes is not None else ax
    if given is None:
        _, created = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), sharey=True, squeeze=False)
        panels = list(created[0])
    elif isinstance(given, Axes):
        panels = [given]
    else:
        panels = list(np.asarray(given, dtype=object).ravel())
    if len(panels) < len(names):
        raise ValueError(f"need {len(names)} axes (one per parametrisation), got {len(panels)}")
    for panel, name in zip(panels, names, strict=False):  # extra panels stay empty
        per_width = np.asarray(stats[name], dtype=np.float64)  # (len(widths), n_layers)
        if per_width.shape[0] != len(widths):
            raise ValueError(f"stats[{name!r}] has {per_width.shape[0]} rows, expected {len(widths)} (one per width)")
        n_layers = per_width.shape[1]
        for layer in range(n_layers):
            label = "output" if layer == n_layers - 1 else ("input" if layer == 0 else f"hidden {layer}")
            panel.plot(widths, per_width[:, layer], marker="o", label=label)
        panel.set_xscale("log", base=2)
        panel.set_yscale("log")
        panel.set_xlabel("width")
        panel.set_title(name)
        panel.legend(fontsize="small")
    panels[0].set_ylabel("mean |activation|")
    return panels[: len(names)]


@torch.no_grad()
def plot_decision_boundary(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    ax: Axes | None = None,
    resolution: int = 200,
) -> Axes:
    """Predicted class over the plane around 2-D points ``X`` ``(N, 2)``, with the points on top.

    The model is evaluated on a grid on the device of its parameters; a single
    output column is read as a binary logit (class 1 where it is positive).
    """
    ax = _axes(ax, figsize=(4.5, 4.5))
    Xn = X.detach().to("cpu", torch.float64).numpy()
    yn = y.detach().cpu().numpy()
    pad_x, pad_y = 0.1 * np.ptp(Xn[:, 0]) + 1e-3, 0.1 * np.ptp(Xn[:, 1]) + 1e-3
    gx = np.linspace(Xn[:, 0].min() - pad_x, Xn[:, 0].max() + pad_x, resolution)
    gy = np.linspace(Xn[:, 1].min() - pad_y, Xn[:, 1].max() + pad_y, resolution)
    xx, yy = np.meshgrid(gx, gy)  # (R, R) each
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else X.device
    dtype = param.dtype if param is not None and param.is_floating_point() else X.dtype
    grid = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=dtype, device=device)  # (R*R, 2)
    was_training = model.training
    model.eval()
    try:
        logits = model(grid)  # (R*R, C) or (R*R,) / (R*R, 1)
    finally:
        model.train(was_training)
    if logits.dim() == 1 or logits.shape[-1] == 1:
        pred = (logits.reshape(-1) > 0).long()
    else:
        pred = logits.argmax(dim=-1)
    n_classes = int(max(pred.max().item(), yn.max()) + 1)
    ax.contourf(
        xx, yy, pred.cpu().numpy().reshape(xx.shape), levels=np.arange(n_classes + 1) - 0.5, cmap="coolwarm", alpha=0.3
    )
    ax.scatter(
        Xn[:, 0],
        Xn[:, 1],
        c=yn,
        cmap="coolwarm",
        s=10,
        edgecolors="k",
        linewidths=0.3,
        vmin=0,
        vmax=max(n_classes - 1, 1),
    )
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def show_images(
    images: torch.Tensor,
    labels: Sequence[object] | torch.Tensor | None = None,
    ncols: int = 8,
    ax: Axes | None = None,
) -> Axes:
    """Tile images into one grid on a single Axes, with optional labels above each.

    Accepts ``(N, H, W)``, ``(N, C, H, W)`` with ``C`` 1 or 3, or flattened
    square images ``(N, H*W)`` (e.g. the 64 digits features). Intensities are
    scaled to ``[0, 1]`` over the whole batch, so relative brightness is kept.
    """
    imgs = images.detach().to("cpu", torch.float64)
    if imgs.dim() == 2:
        side = math.isqrt(imgs.shape[1])
        if side * side != imgs.shape[1]:
            raise ValueError(f"cannot reshape {imgs.shape[1]} features into a square image")
        imgs = imgs.reshape(-1, side, side)
    if imgs.dim() == 3:
        imgs = imgs.unsqueeze(1)  # (N, 1, H, W)
    if imgs.dim() != 4 or imgs.shape[1] not in (1, 3):
        raise ValueError(f"expected (N, H, W) or (N, C, H, W) with C in (1, 3), got {tuple(images.shape)}")
    n, c, h, w = imgs.shape
    lo, hi = imgs.min(), imgs.max()
    imgs = (imgs - lo) / (hi - lo) if hi > lo else torch.zeros_like(imgs)
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    pad = 1
    top_pad = pad + (max(2, h // 4) if labels is not None else 0)  # room for a label above each row
    canvas = np.ones((nrows * (h + top_pad) + pad, ncols * (w + pad) + pad, c))
    for i in range(n):
        r, col = divmod(i, ncols)
        top, left = top_pad + r * (h + top_pad), pad + col * (w + pad)
        canvas[top : top + h, left : left + w] = imgs[i].permute(1, 2, 0).numpy()
    ax = _axes(ax, figsize=(ncols * 0.9, nrows * 1.0))
    ax.imshow(canvas[..., 0] if c == 1 else canvas, cmap="gray" if c == 1 else None, vmin=0, vmax=1)
    if labels is not None:
        names = labels.tolist() if isinstance(labels, torch.Tensor) else list(labels)
        for i, name in enumerate(names[:n]):
            r, col = divmod(i, ncols)
            x_mid, y_top = pad + col * (w + pad) + w / 2, top_pad + r * (h + top_pad)
            ax.text(x_mid, y_top - 0.5, str(name), ha="center", va="bottom", fontsize=8)
    ax.set_axis_off()
    return ax

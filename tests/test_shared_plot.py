"""Tests of shared.plot: every function draws headless and returns its Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from shared.data import moons  # noqa: E402
from shared.models import MLP  # noqa: E402
from shared.plot import (  # noqa: E402
    plot_coord_check,
    plot_curves,
    plot_decision_boundary,
    plot_lr_schedule,
    plot_singular_values,
    show_images,
)
from shared.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    plt.close("all")


def test_plot_curves_with_smoothing_and_log() -> None:
    a, b = History(), History()
    for step in range(50):
        a.add("train_loss", 1.0 / (step + 1))
        b.add("train_loss", 2.0 / (step + 1))
    b.add("val_acc", 0.5)
    ax = plot_curves({"a": a, "b": b}, smooth=5, log=True, title="loss")
    assert isinstance(ax, Axes)
    assert len(ax.get_lines()) == 2 and ax.get_yscale() == "log" and ax.get_title() == "loss"
    y = ax.get_lines()[0].get_ydata()
    assert y[0] == pytest.approx(1.0) and y[4] == pytest.approx(sum(1 / (s + 1) for s in range(5)) / 5)
    _, given = plt.subplots()
    assert plot_curves({"a": a, "b": b}, key="val_acc", ax=given) is given
    assert len(given.get_lines()) == 1  # runs without the key are skipped


def test_plot_singular_values() -> None:
    g = torch.Generator().manual_seed(0)
    before = torch.randn(6, 4, generator=g)
    q, _ = torch.linalg.qr(before)
    ax = plot_singular_values(before, q)
    assert isinstance(ax, Axes)
    lines = ax.get_lines()
    assert len(lines[1].get_ydata()) == 4
    assert lines[1].get_ydata() == pytest.approx([1.0] * 4, abs=1e-5)
    ax = plot_singular_values(torch.tensor([1.0, 3.0, 2.0]), torch.ones(3))  # vectors of singular values
    assert list(ax.get_lines()[0].get_ydata()) == [3.0, 2.0, 1.0]
    with pytest.raises(ValueError):
        plot_singular_values(torch.ones(2, 2, 2), torch.ones(2))


def test_plot_lr_schedule() -> None:
    ax = plot_lr_schedule(lambda s: min(1.0, (s + 1) / 10), 30)
    assert isinstance(ax, Axes)
    assert list(ax.get_lines()[0].get_ydata())[-1] == 1.0


def test_plot_coord_check_one_panel_per_parametrisation() -> None:
    widths = [32, 64, 128]
    stats = {
        "SP": [[1.0, 1.0, 1.0 * w / 32] for w in widths],
        "muP": [[1.0, 1.0, 1.0] for _ in widths],
    }
    axes = plot_coord_check(widths, stats)
    assert len(axes) == 2 and all(isinstance(ax, Axes) for ax in axes)
    assert [ax.get_title() for ax in axes] == ["SP", "muP"]
    assert len(axes[0].get_lines()) == 3 and axes[0].get_xscale() == "log"
    _, given = plt.subplots(1, 2)
    assert plot_coord_check(widths, stats, given) == list(given)
    _, single = plt.subplots()
    assert plot_coord_check(widths, {"muP": stats["muP"]}, ax=single) == [single]


def test_plot_decision_boundary() -> None:
    X, y = moons(n=64)
    ax = plot_decision_boundary(MLP(2, 8, 2), X, y, resolution=30)
    assert isinstance(ax, Axes)
    binary = torch.nn.Linear(2, 1)
    assert isinstance(plot_decision_boundary(binary, X, y, resolution=20), Axes)


@pytest.mark.parametrize("shape", [(10, 8, 8), (10, 1, 8, 8), (10, 3, 8, 8), (10, 64)])
def test_show_images_shapes(shape: tuple[int, ...]) -> None:
    images = torch.rand(*shape)
    ax = show_images(images, labels=torch.arange(10), ncols=4)
    assert isinstance(ax, Axes)
    grid = ax.get_images()[0].get_array()
    assert grid.shape[0] > 3 * 8 and grid.shape[1] == 4 * 9 + 1
    assert len(ax.texts) == 10


def test_show_images_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError):
        show_images(torch.rand(4, 2, 8, 8))

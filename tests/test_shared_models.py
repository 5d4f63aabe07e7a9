"""Tests of shared.models.MLP: parameter names, shapes and returned activations."""

from __future__ import annotations

import torch

from shared.models import MLP


def test_parameter_names_and_shapes() -> None:
    model = MLP(64, 32, 10, n_hidden=2)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {
        "input.weight": (32, 64),
        "input.bias": (32,),
        "hidden.0.weight": (32, 32),
        "hidden.0.bias": (32,),
        "hidden.1.weight": (32, 32),
        "hidden.1.bias": (32,),
        "output.weight": (10, 32),
        "output.bias": (10,),
    }
    assert model.width == 32
    assert isinstance(model.hidden, torch.nn.ModuleList) and len(model.hidden) == 2


def test_no_bias_and_no_hidden_layers() -> None:
    model = MLP(4, 8, 2, n_hidden=0, bias=False)
    assert [name for name, _ in model.named_parameters()] == ["input.weight", "output.weight"]
    assert model(torch.randn(5, 4)).shape == (5, 2)


def test_forward_and_activations() -> None:
    torch.manual_seed(0)
    model = MLP(6, 16, 3, n_hidden=3)
    x = torch.randn(7, 6)
    logits = model(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (7, 3)
    out, acts = model(x, return_activations=True)
    assert torch.equal(out, logits)
    assert len(acts) == 3 + 2
    assert [tuple(a.shape) for a in acts] == [(7, 16)] * 4 + [(7, 3)]
    assert acts[-1] is out
    assert all(bool((a >= 0).all()) for a in acts[:-1])  # post-ReLU
    manual = torch.relu(model.input(x))
    assert torch.allclose(acts[0], manual)


def test_batch_dimensions_are_free() -> None:
    model = MLP(3, 4, 2)
    assert model(torch.randn(2, 5, 3)).shape == (2, 5, 2)
    assert model(torch.randn(3)).shape == (2,)

"""Tests of shared.gradcheck: correct gradients pass, wrong backward passes fail with a useful message."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.gradcheck import GradcheckResult, gradcheck, numerical_vjp


def _inputs(*shapes: tuple[int, ...], seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_() for shape in shapes]


class _LayerNormForgotXhatTerm(torch.autograd.Function):
    """Normalises the last dimension; the backward forgets the ``- xhat * mean(g * xhat)`` term.

    With an all-ones upstream gradient both the correct and this wrong formula
    give zero, so a check with ``out.sum().backward()`` cannot see the bug.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        mean = x.mean(-1, keepdim=True)
        std = (x.var(-1, unbiased=False, keepdim=True) + 1e-5).sqrt()
        ctx.save_for_backward(std)
        return (x - mean) / std

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (std,) = ctx.saved_tensors
        return (g - g.mean(-1, keepdim=True)) / std  # wrong: missing the xhat term


class _SquareHalfGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return g * x  # wrong: should be 2 * g * x


def test_passes_on_elementwise_function() -> None:
    (x,) = _inputs((3, 4))
    result = gradcheck(lambda x: x * x.sin(), (x,))
    assert isinstance(result, GradcheckResult)
    assert result.ok and bool(result)
    assert result.max_abs_error < 1e-6
    assert "match" in result.message


def test_passes_on_layer_norm_with_weight_and_bias() -> None:
    x, w, b = _inputs((3, 5), (5,), (5,))
    result = gradcheck(lambda x, w, b: F.layer_norm(x, (5,), w, b), [x, w, b])
    assert result.ok, result.message
    assert result.analytical[1] is not None and result.analytical[1].shape == (5,)


def test_only_inputs_requiring_grad_are_checked() -> None:
    (x,) = _inputs((4,))
    y = torch.randn(4, dtype=torch.float64)  # no requires_grad
    result = gradcheck(lambda x, y: x * y, (x, y))
    assert result.ok
    assert result.analytical[1] is None and result.numerical[1] is None


def test_float32_inputs_are_checked_in_float64() -> None:
    x = torch.randn(6).requires_grad_()
    result = gradcheck(lambda x: x.exp() * x, (x,))
    assert result.ok, result.message
    assert x.dtype == torch.float32 and x.grad is None  # the caller's tensor is untouched


def test_fails_on_wrong_custom_backward() -> None:
    (x,) = _inputs((2, 3))
    result = gradcheck(_SquareHalfGradient.apply, (x,))
    assert not result.ok and not bool(result)
    assert result.max_abs_error > 0.01
    assert result.worst.startswith("input 0 at index (")
    assert "autograd gives" in result.message and "finite differences give" in result.message
    assert "0.5 times the true gradient" in result.message


def test_random_upstream_catches_layer_norm_bug_that_ones_hide() -> None:
    (x,) = _inputs((4, 6))
    ones = torch.ones(4, 6, dtype=torch.float64)
    (numeric_ones,) = numerical_vjp(_LayerNormForgotXhatTerm.apply, (x,), ones)
    (wrong_ones,) = torch.autograd.grad(_LayerNormForgotXhatTerm.apply(x), x, ones)
    assert numeric_ones is not None
    assert torch.allclose(wrong_ones, numeric_ones, atol=1e-6)  # the bug is invisible with ones
    result = gradcheck(_LayerNormForgotXhatTerm.apply, (x,))
    assert not result.ok
    assert "input 0" in result.worst


def test_detached_output_gets_a_hint() -> None:
    (x,) = _inputs((3,))
    result = gradcheck(lambda x: (x * 2).detach() + 0 * x, (x,))
    assert not result.ok
    assert "exactly zero" in result.message


def test_numerical_vjp_matches_analytic_and_leaves_inputs_alone() -> None:
    x, w = _inputs((2, 3), (3, 4))
    x_before = x.detach().clone()
    upstream = torch.randn(2, 4, dtype=torch.float64)
    num_x, num_w = numerical_vjp(lambda x, w: (x @ w).tanh(), (x, w), upstream)
    ana_x, ana_w = torch.autograd.grad((x @ w).tanh(), (x, w), upstream)
    assert num_x is not None and num_w is not None
    assert torch.allclose(num_x, ana_x, atol=1e-8) and torch.allclose(num_w, ana_w, atol=1e-8)
    assert torch.equal(x.detach(), x_before)


def test_non_contiguous_input() -> None:
    x = torch.randn(4, 3, dtype=torch.float64).T.requires_grad_()  # (3, 4), non-contiguous
    result = gradcheck(lambda x: (x @ x.T).sum(-1), (x,))
    assert result.ok, result.message

"""Hidden tests of `relu_forward(x) -> (out, cache)` and `relu_backward(dout, cache) -> dx`.

out = max(x, 0); dx = dout where x > 0, else 0 (0 at exactly x = 0, as torch's).

Oracle: torch.relu and its autograd gradient, with a random upstream gradient. Every test runs the
forward AND the backward pass, checks both, and checks that neither x nor dout was modified. Inputs
are kept away from the kink in every test but one, which puts exact zeros in x.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("relu")

H = load_helpers(__file__)
F64, randn, away_from_zero, unchanged, check_shape = H.F64, H.randn, H.away_from_zero, H.unchanged, H.check_shape


def oracle(x, dout):
    leaf = x.detach().cpu().to(F64).requires_grad_(True)
    with torch.enable_grad():
        out = torch.relu(leaf)
        (dx,) = torch.autograd.grad(out, leaf, dout.detach().cpu().to(F64))
    return out.detach(), dx


def run(sub, x, dout):
    before = {"x": x.clone(), "dout": dout.clone()}
    out, cache = sub.relu_forward(x)
    check_shape(out, x.shape, "relu_forward's out (x's shape)")
    dx = sub.relu_backward(dout, cache)
    check_shape(dx, x.shape, "relu_backward's dx (x's shape)")
    unchanged(before, {"x": x, "dout": dout}, "relu_forward/relu_backward")
    return out, dx


def check_against_oracle(observe, got, x, dout, atol=0.0):
    out_want, dx_want = oracle(x, dout)
    out, dx = got
    expect_close(out.cpu(), out_want.to(out.dtype), "out must be max(x, 0) elementwise", rtol=0.0, atol=atol,
                 name="out")
    expect_close(
        dx.cpu(), dx_want.to(dx.dtype),
        "dx must be dout where x > 0 and 0 where x <= 0: the upstream gradient passes only where the input was "
        "positive (and the mask comes from x, not from dout)", rtol=0.0, atol=atol, name="dx")
    observe("out", out)
    observe("dx", dx)


@pytest.mark.parametrize("shape", [(1,), (1, 1), (4, 5), (2, 3, 4)], ids=["1", "1x1", "4x5", "2x3x4"])
def test_matches_autograd(sub, observe, device, gen, shape):
    """forward and backward match torch.relu and autograd for a random upstream gradient"""
    x, dout = away_from_zero(gen, *shape).to(device), randn(gen, *shape).to(device)
    check_against_oracle(observe, run(sub, x, dout), x, dout)


def test_both_signs_in_one_tensor(sub, observe, device, gen):
    """blocks the gradient exactly where the input was negative, entry by entry"""
    x = away_from_zero(gen, 6, 7).to(device)
    x[0] = x[0].abs()  # a row of positives and a row of negatives too
    x[1] = -x[1].abs()
    dout = randn(gen, 6, 7).to(device)
    check_against_oracle(observe, run(sub, x, dout), x, dout)


def test_float32(sub, observe, device, gen):
    """keeps float32 in float32"""
    x = away_from_zero(gen, 3, 4, dtype=torch.float32).to(device)
    dout = randn(gen, 3, 4, dtype=torch.float32).to(device)
    got = run(sub, x, dout)
    ok = bool(all(t.dtype == torch.float32 for t in got))
    assert ok, f"out and dx must stay float32 for float32 inputs, got {[str(t.dtype) for t in got]}"
    check_against_oracle(observe, got, x, dout)


def test_without_autograd(sub, observe, device, gen):
    """computes dx by hand: works under torch.no_grad() on tensors that do not require grad"""
    x, dout = away_from_zero(gen, 5, 3).to(device), randn(gen, 5, 3).to(device)
    with torch.no_grad():
        got = run(sub, x, dout)
    ok = bool(not any(t.requires_grad for t in got))
    assert ok, "out and dx must be plain tensors: compute the gradient with tensor operations, not autograd"
    check_against_oracle(observe, got, x, dout)


def test_gradient_at_zero(sub, observe, device, gen):
    """gives gradient 0 where x is exactly 0, as torch does"""
    x = away_from_zero(gen, 4, 6).to(device)
    x[torch.rand(4, 6, generator=gen).to(device) < 0.4] = 0.0
    x[0, 0] = 0.0
    dout = randn(gen, 4, 6).to(device)
    got = run(sub, x, dout)
    ok = bool((got[1][x == 0] == 0).all())
    assert ok, "at x = 0 exactly the ReLU's gradient is 0 (torch's convention): the mask is x > 0, not x >= 0"
    check_against_oracle(observe, got, x, dout)

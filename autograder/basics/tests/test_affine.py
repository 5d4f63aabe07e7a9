"""Hidden tests of `affine_forward(x, w, b) -> (out, cache)` and `affine_backward(dout, cache) -> (dx, dw, db)`.

out = x.reshape(N, D) @ w + b; dx = (dout @ w.T) reshaped like x; dw = x2d.T @ dout; db = dout.sum(0).

Oracle: autograd through torch's F.linear on the flattened input, with a random upstream gradient.
Every test runs the forward AND the backward pass and checks both (and that no input was modified),
over batch 1, D = 1, M = 1, inputs with more than two dimensions, a non-contiguous input, float32,
and once under torch.no_grad() on tensors that do not require grad: gradients by hand need no graph.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("affine")

H = load_helpers(__file__)
F64, randn, unchanged, check_shape = H.F64, H.randn, H.unchanged, H.check_shape

CASES = [((1, 1), 1), ((4, 5), 3), ((3, 2, 3), 4), ((1, 2, 3, 2), 5), ((6, 1), 7), ((2, 7), 1)]


def oracle(x, w, b, dout):
    """(out, dx, dw, db) by autograd through F.linear (float64, CPU)."""
    leaves = [t.detach().cpu().to(F64).requires_grad_(True) for t in (x, w, b)]
    with torch.enable_grad():
        out = F.linear(leaves[0].reshape(x.shape[0], -1), leaves[1].T, leaves[2])
        grads = torch.autograd.grad(out, leaves, dout.detach().cpu().to(F64))
    return (out.detach(), *grads)


def run(sub, x, w, b, dout):
    """The student's forward and backward pass, checked for shapes and for leaving every input unchanged."""
    before = {"x": x.clone(), "w": w.clone(), "b": b.clone(), "dout": dout.clone()}
    out, cache = sub.affine_forward(x, w, b)
    check_shape(out, (x.shape[0], w.shape[1]), "affine_forward's out (N, M)")
    grads = sub.affine_backward(dout, cache)
    ok = bool(isinstance(grads, tuple) and len(grads) == 3)
    assert ok, "affine_backward must return the tuple (dx, dw, db)"
    dx, dw, db = grads
    check_shape(dx, x.shape, "dx (the shape of the original x, not the flattened (N, D))")
    check_shape(dw, w.shape, "dw (w's shape (D, M))")
    check_shape(db, b.shape, "db (b's shape (M,): summed over the batch)")
    unchanged(before, {"x": x, "w": w, "b": b, "dout": dout}, "affine_forward/affine_backward")
    return out, dx, dw, db


def check_against_oracle(observe, got, x, w, b, dout, rtol=1e-10, atol=1e-12):
    want = oracle(x, w, b, dout)
    rules = {"out": "out = x.reshape(N, D) @ w + b",
             "dx": "dx = dout @ w^T, reshaped to x's shape (dx[n, i] = sum_m dout[n, m] w[i, m])",
             "dw": "dw = x2d^T @ dout, summed over the batch (dw[i, m] = sum_n x2d[n, i] dout[n, m])",
             "db": "db = the sum of dout over the batch (every example uses the same bias)"}
    for (name, rule), g, e in zip(rules.items(), got, want):
        expect_close(g.cpu(), e.to(g.dtype), f"{name} differs from autograd's: {rule}", rtol=rtol, atol=atol, name=name)
        observe(name, g, rtol=rtol, atol=atol)


def draw(gen, x_shape, M, dtype=F64):
    N, D = x_shape[0], int(torch.tensor(x_shape[1:]).prod())
    return randn(gen, *x_shape, dtype=dtype), randn(gen, D, M, dtype=dtype), randn(gen, M, dtype=dtype), \
        randn(gen, N, M, dtype=dtype)


@pytest.mark.parametrize("x_shape,M", CASES, ids=[f"x{'x'.join(map(str, s))}-M{m}" for s, m in CASES])
def test_matches_autograd(sub, observe, device, gen, x_shape, M):
    """forward and backward match autograd for a random upstream gradient"""
    x, w, b, dout = (t.to(device) for t in draw(gen, x_shape, M))
    got = run(sub, x, w, b, dout)
    check_against_oracle(observe, got, x, w, b, dout)


def test_non_contiguous_input(sub, observe, device, gen):
    """flattens an input that is not contiguous in memory (a transposed view)"""
    x = randn(gen, 3, 4, 2).to(device).transpose(1, 2)  # (3, 2, 4), not contiguous
    _, w, b, dout = (t.to(device) for t in draw(gen, (3, 8), 5))
    got = run(sub, x, w, b, dout)
    check_against_oracle(observe, got, x, w, b, dout)


def test_float32(sub, observe, device, gen):
    """keeps float32 inputs in float32"""
    x, w, b, dout = (t.to(device) for t in draw(gen, (4, 3, 2), 5, dtype=torch.float32))
    got = run(sub, x, w, b, dout)
    for name, t in zip(("out", "dx", "dw", "db"), got):
        ok = bool(t.dtype == torch.float32)
        assert ok, f"{name} must stay float32 for float32 inputs, got {t.dtype}"
    check_against_oracle(observe, got, x, w, b, dout, rtol=1e-5, atol=1e-5)


def test_without_autograd(sub, observe, device, gen):
    """computes the gradients by hand: works under torch.no_grad() on tensors that do not require grad"""
    x, w, b, dout = (t.to(device) for t in draw(gen, (5, 2, 2), 3))
    with torch.no_grad():
        got = run(sub, x, w, b, dout)
    ok = bool(not any(t.requires_grad for t in got))
    assert ok, "the outputs must be plain tensors: compute the gradients with tensor operations, not autograd"
    check_against_oracle(observe, got, x, w, b, dout)

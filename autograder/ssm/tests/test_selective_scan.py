"""Hidden tests of `selective_scan(u, delta, A, B, C, D) -> y` and
`selective_step(u_t, delta_t, A, B_t, C_t, D, h) -> (y_t, h)` (Mamba's reference shapes):
u, delta (b, l, d); A (d, n); B, C (b, l, n); D (d,);
h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t, y_t = C_t . h_t + D u_t.

Oracle: a sequential loop over time, channel by channel, in float64. Invariants: the step loop
reproduces the scan; delta = 0 leaves the state at zero (y = D u); causality.
"""

import pytest
import torch
import torch.nn.functional as F

pytestmark = pytest.mark.question("selective_scan")

F64 = torch.float64


def inputs(gen, b, l, d, n, dtype=F64):
    u = torch.randn(b, l, d, generator=gen, dtype=F64)
    delta = F.softplus(torch.randn(b, l, d, generator=gen, dtype=F64))
    A = -torch.exp(0.5 * torch.randn(d, n, generator=gen, dtype=F64))
    B = torch.randn(b, l, n, generator=gen, dtype=F64)
    C = torch.randn(b, l, n, generator=gen, dtype=F64)
    D = torch.randn(d, generator=gen, dtype=F64)
    return [t.to(dtype) for t in (u, delta, A, B, C, D)]


def oracle(u, delta, A, B, C, D):
    b, l, d = u.shape
    y = torch.zeros(b, l, d, dtype=F64)
    for i in range(b):
        for c in range(d):
            h = torch.zeros(A.shape[1], dtype=F64)
            for t in range(l):
                h = torch.exp(delta[i, t, c] * A[c]) * h + delta[i, t, c] * B[i, t] * u[i, t, c]
                y[i, t, c] = (C[i, t] * h).sum() + D[c] * u[i, t, c]
    return y


def scan(sub, *args):
    y = sub.selective_scan(*args)
    u = args[0]
    ok = bool(isinstance(y, torch.Tensor) and y.shape == u.shape)
    assert ok, (
        f"selective_scan must return y of u's shape (b, l, d) = {tuple(u.shape)}; got "
        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    return y


def step_loop(sub, u, delta, A, B, C, D):
    h, ys = None, []
    for t in range(u.shape[1]):
        out = sub.selective_step(u[:, t], delta[:, t], A, B[:, t], C[:, t], D, h)
        ok = bool(isinstance(out, tuple) and len(out) == 2)
        assert ok, (
            "selective_step must return the pair (y_t, h)")
        y_t, h = out
        ok = bool(y_t.shape == u[:, t].shape)
        assert ok, (
            f"y_t must have shape (b, d) = {tuple(u[:, t].shape)}, got {tuple(y_t.shape)}")
        ok = bool(h.shape == (u.shape[0], u.shape[2], A.shape[1]))
        assert ok, (
            f"the state h must have shape (b, d, n) = {(u.shape[0], u.shape[2], A.shape[1])}, got {tuple(h.shape)}")
        ys.append(y_t)
    return torch.stack(ys, dim=1), h


SIZES = [(1, 1, 1, 1), (2, 5, 3, 4), (3, 16, 4, 8), (2, 9, 6, 2)]


@pytest.mark.parametrize("b,l,d,n", SIZES, ids=[f"b{b}-l{l}-d{d}-n{n}" for b, l, d, n in SIZES])
def test_matches_loop(sub, observe, device, gen, b, l, d, n):
    """equals the sequential recurrence, channel by channel"""
    args = inputs(gen, b, l, d, n)
    y = scan(sub, *(t.to(device) for t in args))
    want = oracle(*args)
    ok = bool(torch.allclose(y.cpu(), want, rtol=1e-8, atol=1e-10))
    assert ok, (
        f"selective_scan differs from the recurrence (max error {(y.cpu() - want).abs().max():.3g}): per channel d and "
        "state n, h = exp(delta_t A) h + delta_t B_t u_t (the input term carries delta too), y_t = C_t . h_t + D u_t, "
        "with the output read AFTER the update")
    observe("y", y)


@pytest.mark.parametrize("b,l,d,n", [(1, 6, 2, 3), (2, 12, 4, 5)])
def test_step_reproduces_scan(sub, observe, device, gen, b, l, d, n):
    """running selective_step token by token (from h = None) reproduces selective_scan"""
    args = [t.to(device) for t in inputs(gen, b, l, d, n)]
    y_steps, h_last = step_loop(sub, *args)
    want = oracle(*[t.cpu() for t in args])
    ok = bool(torch.allclose(y_steps.cpu(), want, rtol=1e-8, atol=1e-10))
    assert ok, (
        f"the step loop differs from the recurrence (max error {(y_steps.cpu() - want).abs().max():.3g}): "
        "selective_step must start from zeros when h is None, update h = exp(delta_t A) h + delta_t B_t u_t, "
        "return the NEW state and y_t = C_t . h_t + D u_t")
    observe("y from the step loop", y_steps)
    observe("final state", h_last)


def test_zero_delta_keeps_state_empty(sub, observe, device, gen):
    """with delta = 0 nothing enters the state: y = D u"""
    u, delta, A, B, C, D = inputs(gen, 2, 7, 3, 4)
    y = scan(sub, *(t.to(device) for t in (u, torch.zeros_like(delta), A, B, C, D)))
    ok = bool(torch.allclose(y.cpu(), u * D, atol=1e-12))
    assert ok, (
        "with delta = 0 the input term delta B u is 0 and the state stays 0, so y must be exactly D u; "
        "multiply the input term by delta")
    observe("y", y)


def test_causal(sub, observe, device, gen):
    """outputs up to step t do not change when inputs after t change"""
    u, delta, A, B, C, D = [t.to(device) for t in inputs(gen, 2, 10, 3, 4)]
    y = scan(sub, u, delta, A, B, C, D)
    u2, B2 = u.clone(), B.clone()
    u2[:, 6:] += 3.0
    B2[:, 6:] -= 2.0
    y2 = scan(sub, u2, delta, A, B2, C, D)
    ok = bool(torch.allclose(y[:, :6], y2[:, :6], atol=1e-12))
    assert ok, (
        "changing inputs after step 5 changed earlier outputs")
    observe("y", y)


def test_float32(sub, observe, device, gen):
    """works in float32"""
    args = inputs(gen, 2, 10, 3, 4, dtype=torch.float32)
    y = scan(sub, *(t.to(device) for t in args))
    ok = bool(y.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give float32 outputs, got {y.dtype}")
    observe("y (float32)", y, rtol=1e-4, atol=1e-5)


def test_gradients(sub, observe, device, gen):
    """is differentiable with respect to every input"""
    args = [t.to(device).requires_grad_(True) for t in inputs(gen, 2, 6, 3, 2)]
    upstream = torch.randn(2, 6, 3, generator=gen, dtype=F64).to(device)
    (scan(sub, *args) * upstream).sum().backward()
    for name, t in zip(("u", "delta", "A", "B", "C", "D"), args):
        ok = bool(t.grad is not None)
        assert ok, (
            f"{name} got no gradient: selective_scan must use it on the autograd graph")
        observe(f"{name}.grad", t.grad)


# The scan and the step are one contract (training uses the scan, generation the step, and they must agree): this
# test runs the checks of both and carries two thirds of the question's points, so that code wrong on every input
# of either keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("selective_scan", weight=24)
def test_whole_contract(sub, observe, device, gen):
    """the scan matches the loop, the step reproduces the scan token by token, nothing leaks from the future"""
    test_matches_loop(sub, observe, device, gen, 2, 9, 6, 2)
    test_step_reproduces_scan(sub, observe, device, gen, 2, 12, 4, 5)
    test_causal(sub, observe, device, gen)

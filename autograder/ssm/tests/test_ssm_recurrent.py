"""Hidden tests of `ssm_recurrent(dA, dB, C, u) -> y`: h_{-1} = 0, h_k = dA h_{k-1} + dB u_k,
y_k = Re(C . h_k), read after the update.

Oracle: the causal convolution of u with the kernel K_l = Re(sum C dA^l dB), computed with
torch.nn.functional.conv1d in float64 (the convolution view of the same SSM). Invariants:
causality, linearity in u.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("ssm_recurrent")

helpers = load_helpers(__file__)
F64, C128, crandn = helpers.F64, helpers.C128, helpers.crandn


def system(gen, N, complex_, **kwargs):
    return helpers.stable_system(gen, N, complex_, signed=False, **kwargs)


def conv_oracle(dA, dB, C, u):
    L = u.shape[0]
    powers = torch.stack([dA.to(C128) ** l for l in range(L)], dim=-1)  # (N, L)
    K = ((C * dB).to(C128).unsqueeze(-1) * powers).sum(0).real  # (L,)
    return F.conv1d(u.view(1, 1, L), K.flip(0).view(1, 1, L), padding=L - 1)[0, 0, :L]


def call(sub, dA, dB, C, u):
    y = sub.ssm_recurrent(dA, dB, C, u)
    ok = bool(isinstance(y, torch.Tensor) and y.shape == u.shape)
    assert ok, (
        f"ssm_recurrent must return a tensor of u's shape {tuple(u.shape)}; got "
        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    ok = bool(not y.is_complex())
    assert ok, (
        "y is real: y_k = Re(C . h_k)")
    return y


CASES = [(1, 1, True), (4, 9, True), (16, 32, True), (3, 10, False), (8, 25, False)]


@pytest.mark.parametrize("N,L,complex_", CASES, ids=[f"N{n}-L{L}-{'complex' if c else 'real'}" for n, L, c in CASES])
def test_equals_convolution(sub, observe, device, gen, N, L, complex_):
    """equals the causal convolution of u with the SSM kernel (checked with conv1d)"""
    dA, dB, C = system(gen, N, complex_)
    u = torch.randn(L, generator=gen, dtype=F64)
    y = call(sub, dA.to(device), dB.to(device), C.to(device), u.to(device))
    oracle = conv_oracle(dA, dB, C, u)
    ok = bool(torch.allclose(y.cpu().to(F64), oracle, rtol=1e-8, atol=1e-10))
    assert ok, (
        f"the recurrence differs from the convolution view (first values {y[:4].tolist()} against "
        f"{oracle[:4].tolist()}): start from h = 0, update h = dA h + dB u_k first, then read y_k = Re(C . h)")
    observe("y", y)


def test_causal_and_linear(sub, observe, device, gen):
    """y_k depends only on u_0..u_k, and linearly"""
    dA, dB, C = (t.to(device) for t in system(gen, 6, True))
    u = torch.randn(20, generator=gen, dtype=F64).to(device)
    v = torch.randn(20, generator=gen, dtype=F64).to(device)
    y = call(sub, dA, dB, C, u)
    changed = u.clone()
    changed[12:] += 5.0
    y2 = call(sub, dA, dB, C, changed)
    ok = bool(torch.allclose(y[:12], y2[:12]))
    assert ok, (
        "changing u after step 11 changed y before step 12: the recurrence is causal")
    ylin = call(sub, dA, dB, C, 2 * u - 3 * v)
    ok = bool(torch.allclose(ylin, 2 * y - 3 * call(sub, dA, dB, C, v), rtol=1e-8, atol=1e-10))
    assert ok, (
        "the SSM is linear in u: y(2u - 3v) must equal 2 y(u) - 3 y(v)")
    observe("y", y)


def test_float32(sub, observe, device, gen):
    """works in complex64 with a float32 input"""
    dA, dB, C = system(gen, 5, True)
    u = torch.randn(15, generator=gen)
    y = call(sub, *(t.to(torch.complex64).to(device) for t in (dA, dB, C)), u.to(device))
    ok = bool(y.dtype == torch.float32)
    assert ok, (
        f"complex64 / float32 inputs must give float32 outputs, got {y.dtype}")
    observe("y (float32)", y)


def test_gradient(sub, observe, device, gen):
    """is differentiable with respect to u, dA, dB and C"""
    dA, dB, C = system(gen, 4, True)
    dA, dB, C = (t.to(device).requires_grad_(True) for t in (dA, dB, C))
    u = torch.randn(8, generator=gen, dtype=F64).to(device).requires_grad_(True)
    upstream = torch.randn(8, generator=gen, dtype=F64).to(device)
    (call(sub, dA, dB, C, u) * upstream).sum().backward()
    for name, t in (("u", u), ("dA", dA), ("dB", dB), ("C", C)):
        observe(f"{name}.grad", t.grad)

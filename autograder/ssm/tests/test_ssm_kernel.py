"""Hidden tests of `ssm_kernel(dA, dB, C, L) -> K`: K_l = Re(sum_n C_n dA_n^l dB_n), l = 0 .. L-1.

Oracle: the impulse response of the recurrence h_k = dA h_{k-1} + dB u_k, y_k = Re(C h_k) with
u = (1, 0, 0, ...), computed by a sequential loop in complex128 (the kernel IS the impulse response).
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("ssm_kernel")

helpers = load_helpers(__file__)
F64, C128, crandn = helpers.F64, helpers.C128, helpers.crandn


def system(gen, N, complex_, **kwargs):
    return helpers.stable_system(gen, N, complex_, signed=True, **kwargs)


def impulse_response(dA, dB, C, L):
    h = torch.zeros(dA.shape, dtype=C128)
    out = []
    for k in range(L):
        h = dA.to(C128) * h + dB.to(C128) * (1.0 if k == 0 else 0.0)
        out.append((C.to(C128) * h).sum().real)
    return torch.stack(out)


def call(sub, dA, dB, C, L):
    K = sub.ssm_kernel(dA, dB, C, L)
    ok = bool(isinstance(K, torch.Tensor) and K.shape == (L,))
    assert ok, (
        f"ssm_kernel must return a tensor of shape ({L},); got "
        f"{tuple(K.shape) if isinstance(K, torch.Tensor) else type(K).__name__}")
    ok = bool(not K.is_complex())
    assert ok, (
        "the kernel is real: take the real part of sum_n C_n dA_n^l dB_n")
    return K


CASES = [(1, 1, True), (4, 7, True), (16, 33, True), (3, 12, False), (16, 40, False)]


@pytest.mark.parametrize("N,L,complex_", CASES, ids=[f"N{n}-L{L}-{'complex' if c else 'real'}" for n, L, c in CASES])
def test_is_the_impulse_response(sub, observe, device, gen, N, L, complex_):
    """equals the impulse response of the recurrence (K_0 = Re(C . dB), then powers of dA)"""
    dA, dB, C = system(gen, N, complex_)
    K = call(sub, dA.to(device), dB.to(device), C.to(device), L)
    oracle = impulse_response(dA, dB, C, L)
    ok = bool(torch.allclose(K.cpu().to(F64), oracle, rtol=1e-8, atol=1e-10))
    assert ok, (
        f"K differs from the impulse response of the recurrence (first values {K[:4].tolist()} against "
        f"{oracle[:4].tolist()}): K_0 = Re(sum C dB) (dA^0 = 1), K_l = Re(sum C dA^l dB); "
        "take the real part once, at the end")
    ok = bool(K.dtype == F64)
    assert ok, (
        f"float64/complex128 inputs must give a float64 kernel, got {K.dtype}")
    observe("K", K)


def test_long_kernel_near_unit_circle(sub, observe, device, gen):
    """stays accurate for a long kernel with |dA| close to 1"""
    dA, dB, C = system(gen, 8, True, radius=(0.995, 0.9999))
    K = call(sub, dA.to(device), dB.to(device), C.to(device), 300)
    oracle = impulse_response(dA, dB, C, 300)
    ok = bool(torch.allclose(K.cpu(), oracle, rtol=1e-7, atol=1e-9))
    assert ok, (
        "the long kernel drifts from the impulse response")
    observe("K", K)


def test_float32(sub, observe, device, gen):
    """works in complex64 / float32"""
    dA, dB, C = system(gen, 6, True)
    K = call(sub, dA.to(torch.complex64).to(device), dB.to(torch.complex64).to(device),
             C.to(torch.complex64).to(device), 20)
    ok = bool(K.dtype == torch.float32)
    assert ok, (
        f"complex64 inputs must give a float32 kernel, got {K.dtype}")
    observe("K (float32)", K)


def test_gradient(sub, observe, device, gen):
    """is differentiable with respect to dA, dB and C (random upstream gradient)"""
    dA, dB, C = system(gen, 5, True)
    dA, dB, C = (t.to(device).requires_grad_(True) for t in (dA, dB, C))
    upstream = torch.randn(10, generator=gen, dtype=F64).to(device)
    K = call(sub, dA, dB, C, 10)
    (K * upstream).sum().backward()
    observe("dA.grad", dA.grad)
    observe("dB.grad", dB.grad)
    observe("C.grad", C.grad)

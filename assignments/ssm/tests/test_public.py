"""Public tests of the ssm assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more sizes,
real and complex systems, float32, gradients, independent oracles (matrix exponentials, loops,
conv1d) and, for `train`, a short training run on selective copying.

Questions are graded on their own: SelectiveSSM's tests point the name `selective_scan` at a
stand-in (here a recorder of its arguments), so call selective_scan BY NAME in your layer.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import substitute

F64, C128 = torch.float64, torch.complex128


def crandn(gen, *shape):
    return torch.complex(torch.randn(*shape, generator=gen, dtype=F64), torch.randn(*shape, generator=gen, dtype=F64))


def stable_A(gen, N):
    return torch.complex(-torch.exp(0.5 * torch.randn(N, generator=gen, dtype=F64)), 3 * torch.randn(N, generator=gen, dtype=F64))


def discrete_system(gen, N):
    dA = torch.polar(torch.empty(N, dtype=F64).uniform_(0.5, 0.99, generator=gen),
                     torch.empty(N, dtype=F64).uniform_(-3, 3, generator=gen))
    return dA, crandn(gen, N), crandn(gen, N)


# --------------------------------------------------------------------------- discretisation


@pytest.mark.question("discretize_zoh")
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_zoh(sub, observe, device, gen, complex_):
    """matches the reference for real and complex A"""
    A = stable_A(gen, 6) if complex_ else -torch.rand(6, generator=gen, dtype=F64) - 0.1
    B = crandn(gen, 6) if complex_ else torch.randn(6, generator=gen, dtype=F64)
    dA, dB = sub.discretize_zoh(A.to(device), B.to(device), 0.1)
    ok = bool(dA.shape == A.shape and dB.shape == A.shape)
    assert ok, (
        "dA and dB must have A's shape (N,)")
    ok = bool(dA.dtype == A.dtype)
    assert ok, (
        f"dA must keep A's dtype {A.dtype}, got {dA.dtype}")
    observe("dA", dA)
    observe("dB", dB)


@pytest.mark.question("discretize_bilinear")
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_bilinear(sub, observe, device, gen, complex_):
    """matches the reference; stable modes land inside the unit disc"""
    A = stable_A(gen, 6) if complex_ else -torch.rand(6, generator=gen, dtype=F64) - 0.1
    B = crandn(gen, 6) if complex_ else torch.randn(6, generator=gen, dtype=F64)
    dA, dB = sub.discretize_bilinear(A.to(device), B.to(device), torch.tensor(0.5, dtype=F64).to(device))
    ok = bool(dA.shape == A.shape and dB.shape == A.shape)
    assert ok, (
        "dA and dB must have A's shape (N,)")
    ok = bool((dA.abs() < 1).all())
    assert ok, (
        "for Re A < 0 the bilinear transform gives |dA| < 1")
    observe("dA", dA)
    observe("dB", dB)


# --------------------------------------------------------------------------- kernel, recurrence, FFT


@pytest.mark.question("ssm_kernel")
def test_kernel(sub, observe, device, gen):
    """matches the reference for a complex system"""
    dA, dB, C = discrete_system(gen, 5)
    K = sub.ssm_kernel(dA.to(device), dB.to(device), C.to(device), 12)
    ok = bool(K.shape == (12,) and not K.is_complex())
    assert ok, (
        "the kernel is a real tensor of shape (L,)")
    observe("K", K)


@pytest.mark.question("ssm_recurrent")
def test_recurrent(sub, observe, device, gen):
    """matches the reference and is causal"""
    dA, dB, C = (t.to(device) for t in discrete_system(gen, 5))
    u = torch.randn(12, generator=gen, dtype=F64).to(device)
    y = sub.ssm_recurrent(dA, dB, C, u)
    ok = bool(y.shape == u.shape and not y.is_complex())
    assert ok, (
        "y is a real tensor of u's shape (L,)")
    u2 = u.clone()
    u2[8:] = 0.0
    ok = bool(torch.allclose(sub.ssm_recurrent(dA, dB, C, u2)[:8], y[:8]))
    assert ok, (
        "y_k must depend only on u_0 .. u_k")
    observe("y", y)


@pytest.mark.question("fft_conv")
@pytest.mark.parametrize("L", [5, 32])
def test_fft_conv(sub, observe, device, gen, L):
    """matches the reference; an impulse returns the kernel"""
    u = torch.randn(L, generator=gen, dtype=F64).to(device)
    K = torch.randn(L, generator=gen, dtype=F64).to(device)
    y = sub.fft_conv(u, K)
    ok = bool(y.shape == u.shape and not y.is_complex())
    assert ok, (
        "fft_conv returns a real tensor of u's shape")
    impulse = torch.zeros(L, dtype=F64).to(device)
    impulse[0] = 1.0
    ok = bool(torch.allclose(sub.fft_conv(impulse, K), K, atol=1e-10))
    assert ok, (
        "an impulse at step 0 must return the kernel K")
    observe("y", y)


# --------------------------------------------------------------------------- scan


@pytest.mark.question("linear_scan")
@pytest.mark.parametrize("shape", [(9,), (3, 16)], ids=["9", "3x16"])
def test_linear_scan(sub, observe, device, gen, shape):
    """matches the reference; a = 1 gives the cumulative sum"""
    a = torch.empty(shape, dtype=F64).uniform_(0.3, 1.0, generator=gen).to(device)
    b = torch.randn(shape, generator=gen, dtype=F64).to(device)
    h = sub.linear_scan(a, b)
    ok = bool(h.shape == b.shape)
    assert ok, (
        f"h must have the inputs' shape {tuple(b.shape)}")
    ones = sub.linear_scan(torch.ones_like(b), b)
    ok = bool(torch.allclose(ones, b.cumsum(-1)))
    assert ok, (
        "with a = 1 the scan is cumsum(b) along the last axis")
    observe("h", h)


# --------------------------------------------------------------------------- S4D


def s4d_layer(sub, gen, H, N, device):
    layer = sub.S4DLayer(H, d_state=N).double()
    with torch.no_grad():
        layer.log_dt.copy_(torch.empty(H, dtype=F64).uniform_(-4.0, -1.0, generator=gen))
        layer.C.copy_(torch.randn(H, N // 2, 2, generator=gen, dtype=F64))
        layer.D.copy_(torch.randn(H, generator=gen, dtype=F64))
    return layer.to(device)


@pytest.mark.question("s4d")
def test_s4d_kernel(sub, observe, device, gen):
    """kernel(L) is real, (H, L), and matches the reference"""
    layer = s4d_layer(sub, gen, 3, 8, device)
    K = layer.kernel(20)
    ok = bool(K.shape == (3, 20) and not K.is_complex())
    assert ok, (
        "kernel(L) returns a real (H, L) tensor")
    observe("K", K)


@pytest.mark.question("s4d")
def test_s4d_forward(sub, observe, device, gen):
    """forward matches the reference and is causal"""
    layer = s4d_layer(sub, gen, 3, 8, device)
    u = torch.randn(2, 3, 24, generator=gen, dtype=F64).to(device)
    y = layer(u)
    ok = bool(y.shape == u.shape)
    assert ok, (
        f"forward must return u's shape {tuple(u.shape)}")
    u2 = u.clone()
    u2[..., 16:] += 5.0
    ok = bool(torch.allclose(layer(u2)[..., :16], y[..., :16]))
    assert ok, (
        "changing inputs after step 15 changed earlier outputs: pad the FFTs to 2L")
    observe("y", y)


# --------------------------------------------------------------------------- selective scan


def selective_inputs(gen, b, l, d, n):
    u = torch.randn(b, l, d, generator=gen, dtype=F64)
    delta = F.softplus(torch.randn(b, l, d, generator=gen, dtype=F64))
    A = -torch.exp(0.5 * torch.randn(d, n, generator=gen, dtype=F64))
    B, C = torch.randn(b, l, n, generator=gen, dtype=F64), torch.randn(b, l, n, generator=gen, dtype=F64)
    return u, delta, A, B, C, torch.randn(d, generator=gen, dtype=F64)


@pytest.mark.question("selective_scan")
def test_selective_scan(sub, observe, device, gen):
    """matches the reference, and the step loop reproduces the scan"""
    u, delta, A, B, C, D = (t.to(device) for t in selective_inputs(gen, 2, 8, 3, 4))
    y = sub.selective_scan(u, delta, A, B, C, D)
    ok = bool(y.shape == u.shape)
    assert ok, (
        f"y must have u's shape (b, l, d) = {tuple(u.shape)}")
    h, ys = None, []
    for t in range(u.shape[1]):
        y_t, h = sub.selective_step(u[:, t], delta[:, t], A, B[:, t], C[:, t], D, h)
        ys.append(y_t)
    ok = bool(torch.allclose(torch.stack(ys, dim=1), y, rtol=1e-8, atol=1e-10))
    assert ok, (
        "running selective_step token by token from h = None must reproduce selective_scan")
    observe("y", y)


# --------------------------------------------------------------------------- SelectiveSSM (train)


class Recorder:
    """Stands in for selective_scan: records its arguments, returns a simple function of them."""

    def __init__(self):
        self.calls = []

    def __call__(self, u, delta, A, B, C, D):
        self.calls.append((u, delta, A, B, C, D))
        return u * D + delta * (B.sum(-1, keepdim=True) - C.sum(-1, keepdim=True)) + A.sum(-1)


@pytest.mark.question("train")
def test_selective_ssm_layer(sub, observe, device, gen):
    """passes softplus(dt_proj(delta_low)), -exp(A_log), B, C and D to selective_scan"""
    layer = sub.SelectiveSSM(4, d_state=3, dt_rank=2).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=F64))
    layer = layer.to(device)
    u = torch.randn(2, 5, 4, generator=gen, dtype=F64).to(device)
    recorder = Recorder()
    with substitute(sub, selective_scan=recorder):
        y = layer(u)
    ok = bool(len(recorder.calls) == 1)
    assert ok, (
        "forward must call selective_scan (by name) exactly once")
    _, delta, A, B, C, D = recorder.calls[0]
    ok = bool((delta > 0).all() and (A < 0).all())
    assert ok, (
        "delta = softplus(...) > 0 and A = -exp(A_log) < 0")
    for name, value in (("delta", delta), ("A", A), ("B", B), ("C", C), ("D", D), ("y", y)):
        observe(name, value)

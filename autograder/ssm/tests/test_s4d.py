"""Hidden tests of `S4DLayer`: kernel(L) -> (H, L) and forward(u (B, H, L)) -> (B, H, L).

K[h, l] = 2 Re(sum_n C[h, n] (exp(dt_h A[h, n]) - 1) / A[h, n] exp(l dt_h A[h, n])),
dt = exp(log_dt), A = -exp(A_re_log) + i A_im, C = view_as_complex(C);
y = causal_conv(u, K) + D u.

Weights are loaded through the documented parameter names. Oracles: the recurrence over the FULL
set of N modes (each kept mode and its complex conjugate, ZOH via matrix_exp of the diagonal), run
on an impulse in complex128 (its real output is the kernel, without any factor 2 by hand), and
torch.nn.functional.conv1d for the convolution.
"""

import math

import pytest
import torch
import torch.nn.functional as F

pytestmark = pytest.mark.question("s4d")

F64, C128 = torch.float64, torch.complex128
NAMES = ("log_dt", "A_re_log", "A_im", "C", "D")


def make_layer(sub, gen, H, N, device, dtype=F64):
    layer = sub.S4DLayer(H, d_state=N)
    params = dict(layer.named_parameters())
    missing = [n for n in NAMES if n not in params]
    ok = bool(not missing)
    assert ok, (
        f"S4DLayer lacks the documented parameter(s) {missing}; it has {sorted(params)}")
    N2 = N // 2
    weights = {
        "log_dt": torch.empty(H, dtype=F64).uniform_(math.log(1e-2), math.log(0.5), generator=gen),
        "A_re_log": math.log(0.5) + 0.5 * torch.randn(H, N2, generator=gen, dtype=F64),
        "A_im": math.pi * torch.arange(N2, dtype=F64).repeat(H, 1) + 0.3 * torch.randn(H, N2, generator=gen, dtype=F64),
        "C": torch.randn(H, N2, 2, generator=gen, dtype=F64) * 0.5 ** 0.5,
        "D": torch.randn(H, generator=gen, dtype=F64),
    }
    layer = layer.to(dtype)
    with torch.no_grad():
        for n, w in weights.items():
            params = dict(layer.named_parameters())
            ok = bool(params[n].shape == w.shape)
            assert ok, (
                f"S4DLayer.{n} has shape {tuple(params[n].shape)}, expected {tuple(w.shape)}")
            params[n].copy_(w.to(dtype))
    return layer.to(device), weights


def kernel_oracle(w, L):
    """Impulse response of the full conjugate-symmetric diagonal system, channel by channel."""
    A = torch.complex(-torch.exp(w["A_re_log"]), w["A_im"])  # (H, N/2)
    C = torch.view_as_complex(w["C"].contiguous())
    A_full, C_full = torch.cat([A, A.conj()], -1), torch.cat([C, C.conj()], -1)  # (H, N)
    out = []
    for h in range(A.shape[0]):
        dt = torch.exp(w["log_dt"][h])
        dA = torch.linalg.matrix_exp(torch.diag(dt * A_full[h])).diagonal()
        dB = (dA - 1) / A_full[h]
        state, ks = torch.zeros_like(dA), []
        for k in range(L):
            state = dA * state + dB * (1.0 if k == 0 else 0.0)
            ks.append((C_full[h] * state).sum().real)
        out.append(torch.stack(ks))
    return torch.stack(out)  # (H, L)


def conv_oracle(u, K, D):
    B, H, L = u.shape
    y = F.conv1d(u, K.flip(-1).unsqueeze(1), padding=L - 1, groups=H)[..., :L]
    return y + u * D.unsqueeze(-1)


@pytest.mark.parametrize("H,N,L", [(1, 2, 5), (3, 8, 16), (4, 16, 50)])
def test_kernel(sub, observe, device, gen, H, N, L):
    """kernel(L) equals the impulse response of the conjugate-pair system (ZOH)"""
    layer, w = make_layer(sub, gen, H, N, device)
    K = layer.kernel(L)
    ok = bool(isinstance(K, torch.Tensor) and K.shape == (H, L))
    assert ok, (
        f"kernel(L) must return a (H, L) = ({H}, {L}) tensor; got "
        f"{tuple(K.shape) if isinstance(K, torch.Tensor) else type(K).__name__}")
    ok = bool(not K.is_complex())
    assert ok, (
        "the kernel is real: 2 Re(...) over the conjugate pairs")
    oracle = kernel_oracle(w, L)
    ok = bool(torch.allclose(K.detach().cpu(), oracle, rtol=1e-7, atol=1e-9))
    assert ok, (
        f"kernel differs from the impulse response of the system with every mode and its conjugate (max error "
        f"{(K.detach().cpu() - oracle).abs().max():.3g}): K_l = 2 Re(sum_n C_n (exp(dt A_n) - 1)/A_n exp(l dt A_n)), "
        "dt = exp(log_dt), A = -exp(A_re_log) + i A_im, l starting at 0")
    observe("K", K)


@pytest.mark.parametrize("B,H,N,L", [(1, 1, 2, 1), (2, 3, 8, 17), (3, 4, 16, 64)])
def test_forward(sub, observe, device, gen, B, H, N, L):
    """forward is the causal convolution with the kernel plus D u (checked with conv1d)"""
    layer, w = make_layer(sub, gen, H, N, device)
    u = torch.randn(B, H, L, generator=gen, dtype=F64)
    y = layer(u.to(device))
    ok = bool(isinstance(y, torch.Tensor) and y.shape == u.shape)
    assert ok, (
        f"forward must return a tensor of u's shape {tuple(u.shape)}; got "
        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    oracle = conv_oracle(u, kernel_oracle(w, L), w["D"])
    ok = bool(torch.allclose(y.detach().cpu(), oracle, rtol=1e-7, atol=1e-9))
    assert ok, (
        f"forward differs from conv1d(u, K) + D u (max error {(y.detach().cpu() - oracle).abs().max():.3g}): pad the "
        "FFTs to 2L (no wrap-around), keep the first L outputs, add the skip term D u per channel")
    observe("y", y)


def test_causal(sub, observe, device, gen):
    """outputs up to step t do not change when inputs after t change"""
    layer, _ = make_layer(sub, gen, 2, 8, device)
    u = torch.randn(2, 2, 40, generator=gen, dtype=F64).to(device)
    y = layer(u).detach()
    changed = u.clone()
    changed[..., 25:] += 10.0
    y2 = layer(changed).detach()
    ok = bool(torch.allclose(y[..., :25], y2[..., :25], atol=1e-9))
    assert ok, (
        "changing u after step 24 changed the output before step 25: the layer sees the future. The FFT "
        "convolution wraps around unless it is zero-padded to 2L")
    observe("y", y)


def test_float32(sub, observe, device, gen):
    """runs in float32 (the default dtype of the layer)"""
    layer, _ = make_layer(sub, gen, 3, 8, device, dtype=torch.float32)
    u = torch.randn(2, 3, 32, generator=gen).to(device)
    y = layer(u)
    ok = bool(y.dtype == torch.float32)
    assert ok, (
        f"a float32 layer on float32 inputs must return float32, got {y.dtype}")
    observe("y (float32)", y, rtol=1e-3, atol=1e-4)


def test_gradients(sub, observe, device, gen):
    """every parameter gets the reference's gradient (random upstream gradient)"""
    layer, _ = make_layer(sub, gen, 2, 6, device)
    u = torch.randn(2, 2, 12, generator=gen, dtype=F64).to(device)
    upstream = torch.randn(2, 2, 12, generator=gen, dtype=F64).to(device)
    (layer(u) * upstream).sum().backward()
    params = dict(layer.named_parameters())
    for n in NAMES:
        ok = bool(params[n].grad is not None)
        assert ok, (
            f"S4DLayer.{n} got no gradient: the forward pass must use it")
        observe(f"{n}.grad", params[n].grad)


# One contract: this test runs the checks above on one input each (the kernel, the forward pass with its padding and
# skip term, causality, every parameter's gradient) and carries two thirds of the question's points, so that a layer
# wrong in any one part keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("s4d", weight=22)
def test_whole_contract(sub, observe, device, gen):
    """the kernel, forward = causal convolution + D u, causality, gradients"""
    test_kernel(sub, observe, device, gen, 3, 8, 16)
    test_forward(sub, observe, device, gen, 2, 3, 8, 17)
    test_causal(sub, observe, device, gen)
    test_gradients(sub, observe, device, gen)

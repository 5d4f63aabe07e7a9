"""Hidden tests of `fft_conv(u, K) -> y`: the causal linear convolution y_k = sum_{j<=k} K_j u_{k-j}.

Oracle: torch.nn.functional.conv1d with the flipped kernel and L - 1 zeros of left padding
(conv1d is a cross-correlation). Kernels that do not decay and inputs that are large at the
end expose wrap-around (an FFT that is not zero-padded to at least 2L - 1).
"""

import pytest
import torch
import torch.nn.functional as F

pytestmark = pytest.mark.question("fft_conv")

F64 = torch.float64


def conv_oracle(u, K):
    L = u.shape[0]
    return F.conv1d(u.view(1, 1, L), K.flip(0).view(1, 1, L), padding=L - 1)[0, 0, :L]


def call(sub, u, K):
    y = sub.fft_conv(u, K)
    ok = bool(isinstance(y, torch.Tensor) and y.shape == u.shape)
    assert ok, (
        f"fft_conv must return a tensor of u's shape {tuple(u.shape)}; got "
        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    ok = bool(not y.is_complex())
    assert ok, (
        "fft_conv returns a real tensor (torch.fft.irfft of the product, first L entries)")
    return y


@pytest.mark.parametrize("L", [1, 2, 7, 64, 101])
def test_matches_conv1d(sub, observe, device, gen, L):
    """equals the causal convolution (checked with conv1d), for even and odd L"""
    u = torch.randn(L, generator=gen, dtype=F64)
    K = torch.randn(L, generator=gen, dtype=F64)
    y = call(sub, u.to(device), K.to(device))
    oracle = conv_oracle(u, K)
    ok = bool(torch.allclose(y.cpu(), oracle, rtol=1e-8, atol=1e-10))
    assert ok, (
        f"fft_conv differs from the causal convolution sum_(j<=k) K_j u_(k-j) (max error "
        f"{(y.cpu() - oracle).abs().max():.3g}); pad both signals to 2L before the FFT (no wrap-around), keep the "
        "first L outputs, and multiply the spectra (conjugating one of them computes a correlation)")
    observe("y", y)


def test_no_wrap_around(sub, observe, device, gen):
    """does not wrap around: a burst at the end leaves the start of the output at zero"""
    L = 48
    K = torch.ones(L, dtype=F64) + 0.1 * torch.randn(L, generator=gen, dtype=F64)
    u = torch.zeros(L, dtype=F64)
    u[-6:] = torch.randn(6, generator=gen, dtype=F64)
    y = call(sub, u.to(device), K.to(device))
    ok = bool(y[: L - 6].abs().max() < 1e-9)
    assert ok, (
        f"the output before the burst should be 0 but reaches {y[: L - 6].abs().max():.3g}: the FFT convolution is "
        "circular, so the response to late inputs wraps around to the start. Pad to n = 2L")
    observe("y", y)


def test_impulse_gives_kernel(sub, observe, device, gen):
    """an impulse at step 0 returns the kernel itself; a delayed impulse shifts it"""
    L = 20
    K = torch.randn(L, generator=gen, dtype=F64).to(device)
    impulse = torch.zeros(L, dtype=F64)
    impulse[0] = 1.0
    y = call(sub, impulse.to(device), K)
    ok = bool(torch.allclose(y, K, atol=1e-10))
    assert ok, (
        "the convolution with an impulse at step 0 must return K (K_0 first)")
    delayed = torch.roll(impulse, 3)
    y3 = call(sub, delayed.to(device), K)
    ok = bool(torch.allclose(y3[3:], K[:-3], atol=1e-10) and y3[:3].abs().max() < 1e-10)
    assert ok, (
        "an impulse at step 3 must give K shifted right by 3 (zeros first): y_k = sum_j K_j u_(k-j)")
    observe("y", y3)


def test_float32_and_gradient(sub, observe, device, gen):
    """works in float32 and is differentiable with respect to u and K"""
    u = torch.randn(30, generator=gen)
    K = torch.randn(30, generator=gen)
    y32 = call(sub, u.to(device), K.to(device))
    ok = bool(y32.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give a float32 output, got {y32.dtype}")
    observe("y (float32)", y32)
    u64 = u.to(F64).to(device).requires_grad_(True)
    K64 = K.to(F64).to(device).requires_grad_(True)
    upstream = torch.randn(30, generator=gen, dtype=F64).to(device)
    (call(sub, u64, K64) * upstream).sum().backward()
    observe("u.grad", u64.grad)
    observe("K.grad", K64.grad)

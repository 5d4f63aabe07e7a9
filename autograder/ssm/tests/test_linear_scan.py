"""Hidden tests of `linear_scan(a, b) -> h`: h_t = a_t h_{t-1} + b_t along the last axis, h_{-1} = 0.

Oracle: the sequential loop in float64/complex128. Invariants: a = 1 gives cumsum(b); the scan is
inclusive (h_0 = b_0); leading axes are independent batches. |a| stays in [0.3, 1] so that every
correct scan (loops, Hillis-Steele, Blelloch, cumprod/cumsum) is accurate; values are graded,
never timing.
"""

import pytest
import torch

pytestmark = pytest.mark.question("linear_scan")

F64, C128 = torch.float64, torch.complex128


def loop(a, b):
    h, out = torch.zeros_like(b[..., 0]), []
    for t in range(a.shape[-1]):
        h = a[..., t] * h + b[..., t]
        out.append(h)
    return torch.stack(out, dim=-1)


def inputs(gen, shape, complex_=False, signed=True):
    mag = torch.empty(shape, dtype=F64).uniform_(0.3, 1.0, generator=gen)
    if complex_:
        a = torch.polar(mag, torch.empty(shape, dtype=F64).uniform_(-3.0, 3.0, generator=gen))
        b = torch.complex(torch.randn(shape, generator=gen, dtype=F64), torch.randn(shape, generator=gen, dtype=F64))
        return a, b
    if signed:
        mag = mag * torch.where(torch.rand(shape, generator=gen) < 0.3, -1.0, 1.0).to(F64)
    return mag, torch.randn(shape, generator=gen, dtype=F64)


def call(sub, a, b):
    h = sub.linear_scan(a, b)
    ok = bool(isinstance(h, torch.Tensor) and h.shape == b.shape)
    assert ok, (
        f"linear_scan must return a tensor of the inputs' shape {tuple(b.shape)}; got "
        f"{tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__}")
    return h


SHAPES = [(1,), (2,), (5,), (16,), (33,), (3, 17), (2, 3, 8), (4, 64)]


@pytest.mark.parametrize("shape", SHAPES, ids=["x".join(map(str, s)) for s in SHAPES])
def test_matches_loop(sub, observe, device, gen, shape):
    """equals the sequential recurrence along the last axis"""
    a, b = inputs(gen, shape)
    h = call(sub, a.to(device), b.to(device))
    oracle = loop(a, b)
    ok = bool(torch.allclose(h.cpu(), oracle, rtol=1e-8, atol=1e-10))
    assert ok, (
        f"linear_scan differs from the loop h_t = a_t h_(t-1) + b_t (max error {(h.cpu() - oracle).abs().max():.3g}); "
        "the scan is inclusive (h_0 = b_0), runs along the LAST axis, and the combine of an earlier (a_i, b_i) with "
        "a later (a_j, b_j) is (a_j a_i, a_j b_i + b_j): the order matters")
    observe("h", h)


@pytest.mark.parametrize("L", [7, 32])
def test_complex(sub, observe, device, gen, L):
    """works for complex a and b"""
    a, b = inputs(gen, (3, L), complex_=True)
    h = call(sub, a.to(device), b.to(device))
    ok = bool(h.dtype == C128)
    assert ok, (
        f"complex128 inputs must give complex128 outputs, got {h.dtype}")
    ok = bool(torch.allclose(h.cpu(), loop(a, b), rtol=1e-8, atol=1e-10))
    assert ok, (
        "linear_scan differs from the loop for complex inputs")
    observe("h", h)


def test_cumsum_when_a_is_one(sub, observe, device, gen):
    """with a = 1 the scan is the cumulative sum of b"""
    b = torch.randn(2, 20, generator=gen, dtype=F64).to(device)
    h = call(sub, torch.ones_like(b), b)
    ok = bool(torch.allclose(h, b.cumsum(-1), rtol=1e-10, atol=1e-12))
    assert ok, (
        "with a = 1, h_t = b_0 + ... + b_t (cumsum)")
    observe("h", h)


def test_time_varying_and_inputs_untouched(sub, observe, device, gen):
    """handles a different a_t at every step and leaves its inputs unchanged"""
    a, b = inputs(gen, (2, 40), signed=False)
    a[:, 10] = 0.3  # an almost-reset in the middle
    a, b = a.to(device), b.to(device)
    a0, b0 = a.clone(), b.clone()
    h = call(sub, a, b)
    ok = bool(torch.equal(a, a0) and torch.equal(b, b0))
    assert ok, (
        "linear_scan modified its inputs in place: work on new tensors")
    observe("h", h)


def test_float32(sub, observe, device, gen):
    """works in float32"""
    a, b = inputs(gen, (4, 50), signed=False)
    h = call(sub, a.float().to(device), b.float().to(device))
    ok = bool(h.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give float32 outputs, got {h.dtype}")
    observe("h (float32)", h, rtol=1e-4, atol=1e-4)


def test_gradient(sub, observe, device, gen):
    """is differentiable with respect to a and b"""
    a, b = inputs(gen, (2, 11))
    a, b = a.to(device).requires_grad_(True), b.to(device).requires_grad_(True)
    upstream = torch.randn(2, 11, generator=gen, dtype=F64).to(device)
    (call(sub, a, b) * upstream).sum().backward()
    observe("a.grad", a.grad)
    observe("b.grad", b.grad)


# One contract: this test runs the checks above on one input each (one sequence, a batch of sequences, complex
# values, gradients) and carries two thirds of the question's points, so that a scan wrong on every input of one
# kind keeps at most a third; the tests above say which kind.
@pytest.mark.question("linear_scan", weight=32)
def test_whole_contract(sub, observe, device, gen):
    """a single sequence, batched sequences, complex values, gradients"""
    test_matches_loop(sub, observe, device, gen, (16,))
    test_matches_loop(sub, observe, device, gen, (3, 17))
    test_complex(sub, observe, device, gen, 7)
    test_gradient(sub, observe, device, gen)

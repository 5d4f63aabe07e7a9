"""Hidden tests of `AffineCoupling(dim, hidden_dim, mask)`: forward(x) -> (y, log_det), inverse(y) -> x.

(s_raw, t) = net(mask * x), s = tanh(s_raw), y = m x + (1 - m)(x exp(s) + t), log_det = sum((1 - m) s).
Weights are loaded into the skeleton's `net`; the oracle computes s and t from that same net.
log_det is checked against log|det| of the autograd Jacobian (torch.autograd.functional.jacobian,
float64); the inverse both ways (every test also checks that inverse undoes
forward); masks of several patterns, dim 1 to 6, a batch of one; float32.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("coupling")

helpers = load_helpers(__file__)
F64, load_random = helpers.F64, helpers.load_random


def make(sub, gen, device, mask, hidden=8, scale=0.7, dtype=F64):
    dim = len(mask)
    layer = sub.AffineCoupling(dim, hidden, torch.tensor(mask, dtype=torch.float32))
    names = {n for n, _ in layer.named_parameters()}
    wanted = {f"net.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")}
    ok = bool(names == wanted)
    assert ok, (
        f"AffineCoupling must keep the skeleton's net and add no parameters; it has {sorted(names)}")
    return load_random(layer.to(dtype), gen, scale).to(device)


def oracle(layer, x, mask):
    m = torch.tensor(mask, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        s_raw, t = layer.net(m * x).chunk(2, dim=-1)
    s = torch.tanh(s_raw)
    return m * x + (1 - m) * (x * torch.exp(s) + t), ((1 - m) * s).sum(-1)


def forward(layer, x):
    out = layer(x)
    ok = bool(isinstance(out, tuple) and len(out) == 2)
    assert ok, (
        "forward returns the pair (y, log_det)")
    y, log_det = out
    ok = bool(y.shape == x.shape and log_det.shape == x.shape[:1])
    assert ok, (
        f"y must be (N, D) = {tuple(x.shape)} and log_det (N,) = ({x.shape[0]},), one per sample summed over "
        f"features; got {tuple(y.shape)} and {tuple(log_det.shape)}")
    with torch.no_grad():
        x_back = layer.inverse(y.detach())
    tol = 1e-4 if x.dtype == torch.float32 else 1e-8
    expect_close(x_back, x.detach(), "the layer must be invertible, inverse(forward(x)) = x: x = m y + (1 - m)(y - t) "
                 "exp(-s), with s and t from net(m y) (= net(m x))", rtol=tol, atol=tol, name="inverse(forward(x))")
    return y, log_det


MASKS = [[1, 0], [0, 1], [1, 0, 1, 0, 1], [0, 0, 1, 1, 0, 1], [0]]


@pytest.mark.parametrize("mask", MASKS, ids=["10", "01", "10101", "001101", "0"])
def test_forward_matches(sub, observe, device, gen, mask):
    """y = m x + (1 - m)(x exp(s) + t) and log_det = sum((1 - m) s), with s, t from net(m x)"""
    layer = make(sub, gen, device, mask)
    x = torch.randn(7, len(mask), generator=gen, dtype=F64).to(device)
    y, log_det = forward(layer, x)
    y_o, ld_o = oracle(layer, x, mask)
    expect_close(y, y_o, "y = m x + (1 - m)(x exp(s) + t), with (s_raw, t) = net(m x) and s = tanh(s_raw): the kept "
                 "features (m = 1) pass unchanged and the net sees only them", rtol=1e-9, atol=1e-10, name="y")
    expect_close(log_det, ld_o, "log_det = sum over the transformed features (m = 0) of s", rtol=1e-9, atol=1e-10,
                 name="log_det")
    observe("y", y)
    observe("log_det", log_det)


@pytest.mark.parametrize("mask", [[1, 0, 0], [0, 1, 1, 0]], ids=["100", "0110"])
def test_log_det_is_the_jacobian(sub, observe, device, gen, mask):
    """log_det equals log|det J| of the autograd Jacobian, sample by sample (float64)"""
    layer = make(sub, gen, device, mask, scale=1.0)
    x = torch.randn(3, len(mask), generator=gen, dtype=F64).to(device)
    _, log_det = forward(layer, x)
    for i in range(3):
        J = torch.autograd.functional.jacobian(lambda v: layer(v.unsqueeze(0))[0].squeeze(0), x[i])
        expect_close(log_det[i], torch.linalg.slogdet(J)[1],
                     "log_det must be log|det dy/dx|; only the transformed features (m = 0) contribute their s",
                     rtol=1e-8, atol=1e-10, name=f"log_det[{i}]")
    observe("log_det", log_det)


@pytest.mark.parametrize("mask", [[1, 0], [0, 1, 0, 1, 1]], ids=["10", "01011"])
def test_inverse(sub, observe, device, gen, mask):
    """inverse(forward(x)) = x and forward(inverse(y)) = y"""
    layer = make(sub, gen, device, mask, scale=1.0)
    x = 2 * torch.randn(6, len(mask), generator=gen, dtype=F64).to(device)
    with torch.no_grad():
        y, _ = forward(layer, x)
        x_back = layer.inverse(y)
        y2 = 2 * torch.randn(6, len(mask), generator=gen, dtype=F64).to(device)
        y2_back = forward(layer, layer.inverse(y2))[0]
    expect_close(x_back, x, "inverse(forward(x)) must give x back: x = m y + (1 - m)(y - t) exp(-s), with s, t from "
                 "net(m y)", rtol=1e-9, atol=1e-9, name="inverse(forward(x))")
    expect_close(y2_back, y2, "forward(inverse(y)) must give y back", rtol=1e-9, atol=1e-9, name="forward(inverse(y))")
    observe("x from inverse", layer.inverse(y2))


def test_float32_batch_of_one_and_gradients(sub, observe, device, gen):
    """float32, a batch of one, and gradients to the net (random upstream)"""
    mask = [1, 0, 1]
    layer = make(sub, gen, device, mask, dtype=torch.float32)
    x = torch.randn(1, 3, generator=gen).to(device)
    y, log_det = forward(layer, x)
    ok = bool(y.dtype == torch.float32 and log_det.dtype == torch.float32)
    assert ok, (
        f"float32 in must give float32 out, got {y.dtype} and {log_det.dtype}")
    up = torch.randn(1, 3, generator=gen).to(device)
    ((y * up).sum() + 0.7 * log_det.sum()).backward()
    for name, p in sorted(layer.named_parameters()):
        ok = bool(p.grad is not None)
        assert ok, (
            f"{name} got no gradient")
        observe(f"{name}.grad", p.grad, rtol=1e-4, atol=1e-6)
    observe("y", y)

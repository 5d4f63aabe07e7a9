"""Hidden tests of `discriminator_loss(real_logits, fake_logits)` and `generator_loss(fake_logits)`.

D loss = mean(-log sigmoid(real)) + mean(-log(1 - sigmoid(fake))) (binary cross-entropy with targets
1 and 0, the sum of the two batch means); G loss = mean(-log sigmoid(fake)) (non-saturating).
Oracle: torch's binary_cross_entropy_with_logits. Extreme logits (+-100, +-1000) in float64 and
float32: finite values and exact gradients; the generator's gradient must not vanish when the
discriminator rejects a fake.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close

pytestmark = pytest.mark.question("gan_losses")

F64 = torch.float64


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def d_loss(sub, real, fake):
    out = sub.discriminator_loss(real, fake)
    ok = bool(isinstance(out, torch.Tensor) and out.dim() == 0)
    assert ok, (
        "discriminator_loss returns a 0-d tensor")
    return out


def g_loss(sub, fake):
    out = sub.generator_loss(fake)
    ok = bool(isinstance(out, torch.Tensor) and out.dim() == 0)
    assert ok, (
        "generator_loss returns a 0-d tensor")
    return out


def check_pair(sub, gen, device):
    """Both losses on a fresh random pair of batches: the question grades them together."""
    real, fake = 3 * torch.randn(6, generator=gen, dtype=F64), 3 * torch.randn(4, generator=gen, dtype=F64)
    expect_close(d_loss(sub, real.to(device), fake.to(device)).cpu(), bce(real, 1.0) + bce(fake, 0.0),
                 "discriminator_loss = mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid(fake_logits)))",
                 rtol=1e-9, atol=1e-12, name="discriminator_loss")
    expect_close(g_loss(sub, fake.to(device)).cpu(), bce(fake, 1.0),
                 "generator_loss = mean(-log sigmoid(fake_logits)), the non-saturating loss", rtol=1e-9, atol=1e-12,
                 name="generator_loss")


@pytest.mark.parametrize("n_real,n_fake", [(1, 1), (8, 3), (5, 12)])
def test_discriminator_loss(sub, observe, device, gen, n_real, n_fake):
    """equals BCE(real, 1) + BCE(fake, 0), each a batch mean (batches of different sizes)"""
    real = 3 * torch.randn(n_real, generator=gen, dtype=F64)
    fake = 3 * torch.randn(n_fake, generator=gen, dtype=F64)
    loss = d_loss(sub, real.to(device), fake.to(device))
    expect_close(loss.cpu(), bce(real, 1.0) + bce(fake, 0.0),
                 "discriminator_loss = mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid(fake_logits))): "
                 "target 1 for real, 0 for fake, the sum of the two batch means", rtol=1e-9, atol=1e-12)
    observe("discriminator_loss", loss)
    check_pair(sub, gen, device)


@pytest.mark.parametrize("n", [1, 9])
def test_generator_loss(sub, observe, device, gen, n):
    """equals the non-saturating loss mean(-log sigmoid(fake_logits)) = BCE(fake, 1)"""
    fake = 3 * torch.randn(n, generator=gen, dtype=F64)
    loss = g_loss(sub, fake.to(device))
    expect_close(loss.cpu(), bce(fake, 1.0),
                 "generator_loss = mean(-log sigmoid(fake_logits)), the non-saturating loss (not mean(log(1 - "
                 "sigmoid(fake_logits))), which saturates)", rtol=1e-9, atol=1e-12)
    observe("generator_loss", loss)
    check_pair(sub, gen, device)


@pytest.mark.parametrize("dtype,magnitude", [(F64, 100.0), (F64, 1000.0), (torch.float32, 100.0)],
                         ids=["float64-100", "float64-1000", "float32-100"])
def test_extreme_logits(sub, observe, device, gen, dtype, magnitude):
    """finite values and exact gradients for logits of +-100 and +-1000 (both losses)"""
    signs = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=F64)
    perm = torch.randperm(4, generator=gen)
    real = (magnitude * signs[perm]).to(dtype).to(device).requires_grad_(True)
    fake = (magnitude * signs[perm.flip(0)]).to(dtype).to(device).requires_grad_(True)
    loss_d, loss_g = d_loss(sub, real, fake), g_loss(sub, fake)
    ok = bool(torch.isfinite(loss_d) and torch.isfinite(loss_g))
    assert ok, (
        f"the losses are {loss_d.item()} and {loss_g.item()} for logits of +-{magnitude:g}: log(sigmoid(l)) rounds to "
        "log(0); write -log sigmoid(l) = softplus(-l) and -log(1 - sigmoid(l)) = softplus(l)")
    r64, f64 = real.detach().cpu().double(), fake.detach().cpu().double()
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-9)
    expect_close(loss_d.detach().cpu().double(), bce(r64, 1.0) + bce(f64, 0.0),
                 "the discriminator loss at extreme logits (each confident mistake costs |l| nats)", **tol)
    expect_close(loss_g.detach().cpu().double(), bce(f64, 1.0), "the generator loss at extreme logits", **tol)
    grad_real, grad_fake = torch.autograd.grad(loss_d + 2 * loss_g, (real, fake))
    expect_close(grad_real.cpu().double(), -(1 - torch.sigmoid(r64)) / 4,
                 "d D-loss / d real_logit = -(1 - sigmoid(l)) / N_real", **tol, name="real_logits.grad")
    expect_close(grad_fake.cpu().double(), torch.sigmoid(f64) / 4 - 2 * (1 - torch.sigmoid(f64)) / 4,
                 "d D-loss / d fake_logit = sigmoid(l) / N_fake and d G-loss / d fake_logit = "
                 "-(1 - sigmoid(l)) / N_fake",
                 **tol, name="fake_logits.grad")
    observe("discriminator_loss", loss_d)
    observe("generator_loss", loss_g)


def test_generator_gradient_does_not_vanish(sub, observe, device, gen):
    """when D rejects the fakes (D(G(z)) near 0), the generator's gradient per sample stays near -1/N"""
    fake = (-8.0 - 4 * torch.rand(6, generator=gen, dtype=F64)).to(device).requires_grad_(True)
    g_loss(sub, fake).backward()
    ok = bool((fake.grad * 6 < -0.99).all())
    assert ok, (
        f"with D(G(z)) about {torch.sigmoid(fake).max().item():.0e} the generator's gradient per sample is "
        f"{(fake.grad * 6).abs().max().item():.1e}: the saturating loss log(1 - D(G(z))) vanishes there, the "
        "non-saturating -log D(G(z)) does not")
    observe("fake_logits.grad", fake.grad)

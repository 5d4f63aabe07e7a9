"""The generative reference solution against independent oracles.

The graded cells of solutions/generative/generative.py are checked against Monte Carlo estimates
(the reparameterised samples' moments, the KL as E_q[log q - log p]), torch.distributions (Normal,
kl_divergence, log_prob), F.binary_cross_entropy_with_logits, autograd Jacobians of the coupling
(torch.autograd.functional.jacobian, float64), exact inversion, and a flow density that integrates
to about 1 on a grid. Property tests use hypothesis. The hidden tests inherit these facts when they
compare students to the reference.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.notebook import reference_module
from autograder.testing import substitute

ref = reference_module("generative")

F64 = torch.float64
EXACT = dict(rtol=1e-10, atol=1e-12)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def coupling(dim, mask, seed, hidden=16, scale=0.7):
    layer = ref.AffineCoupling(dim, hidden, torch.tensor(mask, dtype=torch.float32)).to(F64)
    g = gen(seed)
    with torch.no_grad():
        for _, p in sorted(layer.named_parameters()):
            p.copy_(scale * torch.randn(p.shape, generator=g, dtype=F64))
    return layer


# --------------------------------------------------------------------------- reparameterize, KL


def test_reparameterize_moments_monte_carlo():
    g = gen(1)
    mu = torch.tensor([[0.5, -2.0, 3.0]], dtype=F64)
    logvar = torch.tensor([[0.0, -1.5, 1.2]], dtype=F64)
    n = 200_000
    z = ref.reparameterize(mu.expand(n, 3), logvar.expand(n, 3), generator=g)
    std = torch.exp(0.5 * logvar[0])
    assert ((z.mean(0) - mu[0]) / (std / math.sqrt(n))).abs().max() < 5
    torch.testing.assert_close(z.std(0), std, rtol=1e-2, atol=0)
    assert (torch.corrcoef(z.T) - torch.eye(3, dtype=F64)).abs().max() < 0.01


def test_reparameterize_gradients_and_generator():
    mu = torch.randn(4, 3, generator=gen(2), dtype=F64, requires_grad=True)
    logvar = torch.randn(4, 3, generator=gen(3), dtype=F64, requires_grad=True)
    z = ref.reparameterize(mu, logvar, generator=gen(4))
    torch.testing.assert_close(z, ref.reparameterize(mu, logvar, generator=gen(4)), **EXACT)
    up = torch.randn(4, 3, generator=gen(5), dtype=F64)
    (z * up).sum().backward()
    torch.testing.assert_close(mu.grad, up, **EXACT)
    torch.testing.assert_close(logvar.grad, 0.5 * (z - mu).detach() * up, **EXACT)


def torch_kl(mu, logvar):
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    return torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 6), st.integers(1, 6), st.floats(-30, 30), st.integers(0, 2**31 - 1))
def test_kl_matches_torch_distributions(n, k, logvar_shift, seed):
    g = gen(seed)
    mu = 3 * torch.randn(n, k, generator=g, dtype=F64)
    logvar = (torch.randn(n, k, generator=g, dtype=F64) + logvar_shift).clamp(-30, 30)
    kl = ref.gaussian_kl(mu, logvar)
    assert kl.shape == (n,) and torch.isfinite(kl).all() and (kl >= 0).all()
    torch.testing.assert_close(kl, torch_kl(mu, logvar), rtol=1e-9, atol=1e-9)


def test_kl_monte_carlo():
    g = gen(6)
    mu = torch.tensor([[1.0, -0.5]], dtype=F64)
    logvar = torch.tensor([[-1.0, 0.7]], dtype=F64)
    z = ref.reparameterize(mu.expand(400_000, 2), logvar.expand(400_000, 2), generator=g)
    log_q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    ratio = log_q - log_p
    assert abs(ratio.mean() - ref.gaussian_kl(mu, logvar)) < 5 * ratio.std() / math.sqrt(len(ratio))


# --------------------------------------------------------------------------- vae_loss


@pytest.mark.parametrize("scale", [1.0, 100.0, 1000.0])
def test_vae_loss_matches_bce_with_logits(scale):
    g = gen(7)
    x = torch.rand(6, 64, generator=g, dtype=F64)
    logits = (scale * torch.randn(6, 64, generator=g, dtype=F64)).requires_grad_(True)
    mu, logvar = torch.randn(6, 8, generator=g, dtype=F64), torch.randn(6, 8, generator=g, dtype=F64)
    loss, recon, kl = ref.vae_loss(x, logits, mu, logvar, beta=0.3)
    expected = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 6
    torch.testing.assert_close(recon, expected, rtol=1e-10, atol=1e-9)
    torch.testing.assert_close(kl, torch_kl(mu, logvar).mean(), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(loss, recon + 0.3 * kl, **EXACT)
    recon.backward()
    # F.softplus returns l itself above its threshold 20 (an error below exp(-20) = 2e-9)
    torch.testing.assert_close(logits.grad, (torch.sigmoid(logits) - x).detach() / 6, rtol=0, atol=1e-9)


def test_vae_loss_uses_gaussian_kl_by_name():
    x, logits = torch.rand(3, 4, dtype=F64), torch.randn(3, 4, dtype=F64)
    mu, logvar = torch.randn(3, 2, dtype=F64), torch.randn(3, 2, dtype=F64)
    with substitute(ref, gaussian_kl=lambda m, lv: torch.full((m.shape[0],), 7.0, dtype=F64)):
        _, _, kl = ref.vae_loss(x, logits, mu, logvar)
    assert kl.item() == 7.0


# --------------------------------------------------------------------------- VAE


def test_vae_shapes_sample_and_elbo_bound():
    torch.manual_seed(0)
    model = ref.VAE(64, 32, 4).to(F64)
    x = torch.rand(5, 64, generator=gen(8), dtype=F64)
    x_logits, mu, logvar = model(x, generator=gen(9))
    assert x_logits.shape == (5, 64) and mu.shape == logvar.shape == (5, 4)
    s = model.sample(7, generator=gen(10))
    assert s.shape == (7, 64) and ((s >= 0) & (s <= 1)).all()
    torch.testing.assert_close(s, model.sample(7, generator=gen(10)), **EXACT)
    # the ELBO is a lower bound on log p(x): compare it with an importance-sampling estimate, which is tighter
    with torch.no_grad():
        xb = x[:1]
        _, mu1, lv1 = model(xb)
        q = torch.distributions.Normal(mu1, torch.exp(0.5 * lv1))
        z = q.sample((20_000,)).squeeze(1)  # (S, K)
        logits = model.decoder(z)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, xb.expand_as(logits), reduction="none").sum(-1)
        log_w = log_px_z + torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z).sum(-1)
        log_px = torch.logsumexp(log_w, 0) - math.log(len(log_w))
        elbo = log_w.mean()
    assert elbo <= log_px + 1e-6


# --------------------------------------------------------------------------- GAN losses


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 8), st.integers(1, 8), st.sampled_from([1.0, 10.0, 100.0, 1000.0]), st.integers(0, 2**31 - 1))
def test_gan_losses_match_bce(n_real, n_fake, scale, seed):
    g = gen(seed)
    real = (scale * torch.randn(n_real, generator=g, dtype=F64)).requires_grad_(True)
    fake = (scale * torch.randn(n_fake, generator=g, dtype=F64)).requires_grad_(True)
    d = ref.discriminator_loss(real, fake)
    g_loss = ref.generator_loss(fake)
    bce = F.binary_cross_entropy_with_logits
    close = dict(rtol=1e-10, atol=1e-8)  # F.softplus returns l itself above 20: an error below exp(-20) = 2e-9
    torch.testing.assert_close(d, bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)), **close)
    torch.testing.assert_close(g_loss, bce(fake, torch.ones_like(fake)), **close)
    gr, gf = torch.autograd.grad(d + g_loss, (real, fake))
    torch.testing.assert_close(gr, -(1 - torch.sigmoid(real)).detach() / n_real, **close)
    torch.testing.assert_close(gf, (2 * torch.sigmoid(fake) - 1).detach() / n_fake, **close)


def test_non_saturating_gradient_does_not_vanish():
    fake = torch.tensor([-20.0, -50.0], dtype=F64, requires_grad=True)
    ref.generator_loss(fake).backward()
    torch.testing.assert_close(fake.grad, torch.full((2,), -0.5, dtype=F64), rtol=1e-8, atol=0)


# --------------------------------------------------------------------------- coupling and flow


@pytest.mark.parametrize("mask", [[1, 0], [0, 1], [1, 0, 0, 1, 0], [0, 0, 0]])
def test_coupling_log_det_is_log_abs_det_jacobian(mask):
    layer = coupling(len(mask), mask, seed=11, scale=1.0)
    x = torch.randn(4, len(mask), generator=gen(12), dtype=F64)
    y, log_det = layer(x)
    for i in range(4):
        J = torch.autograd.functional.jacobian(lambda v: layer(v.unsqueeze(0))[0].squeeze(0), x[i])
        torch.testing.assert_close(log_det[i], torch.linalg.slogdet(J)[1], rtol=1e-10, atol=1e-12)
        keep = torch.tensor(mask, dtype=torch.bool)
        # triangular structure: the kept features are the identity, and do not depend on the others
        torch.testing.assert_close(J[keep][:, keep], torch.eye(int(keep.sum()), dtype=F64), **EXACT)
        assert (J[keep][:, ~keep] == 0).all()


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_coupling_inverts_exactly(dim, seed):
    g = gen(seed)
    mask = (torch.rand(dim, generator=g) < 0.5).float().tolist()
    layer = coupling(dim, mask, seed=seed % 1000, scale=1.0)
    x = 3 * torch.randn(5, dim, generator=g, dtype=F64)
    with torch.no_grad():
        torch.testing.assert_close(layer.inverse(layer(x)[0]), x, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(layer(layer.inverse(x))[0], x, rtol=1e-10, atol=1e-10)


def test_flow_nll_matches_normal_log_prob_and_density_integrates_to_one():
    flow = ref.make_flow(2, 16, 4).to(F64)
    g = gen(13)
    with torch.no_grad():
        for _, p in sorted(flow.named_parameters()):
            p.copy_(0.4 * torch.randn(p.shape, generator=g, dtype=F64))
    x = torch.randn(7, 2, generator=g, dtype=F64)
    z, total = x, torch.zeros(7, dtype=F64)
    for layer in flow:
        z, ld = layer(z)
        total = total + ld
    expected = -(torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) + total).mean()
    torch.testing.assert_close(ref.flow_nll(flow, x), expected, **EXACT)
    # a density integrates to 1: Riemann sum of exp(-nll) per grid point (nll of one point is -log p)
    grid = torch.linspace(-10, 10, 401, dtype=F64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    pts = torch.stack([gx.ravel(), gy.ravel()], dim=1)
    with torch.no_grad():
        z, log_det = pts, torch.zeros(len(pts), dtype=F64)
        for layer in flow:
            z, ld = layer(z)
            log_det = log_det + ld
        log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) + log_det
        torch.testing.assert_close(-log_p[:3].mean(), ref.flow_nll(flow, pts[:3]), **EXACT)
    integral = log_p.exp().sum() * (grid[1] - grid[0]) ** 2
    assert abs(integral.item() - 1) < 1e-3


def test_make_flow_and_flow_inverse():
    flow = ref.make_flow(3, 8, 4).to(F64)
    assert [layer.mask.tolist() for layer in flow] == [[1, 0, 1], [0, 1, 0], [1, 0, 1], [0, 1, 0]]
    x = torch.randn(6, 3, generator=gen(14), dtype=F64)
    with torch.no_grad():
        z = x
        for layer in flow:
            z = layer(z)[0]
        torch.testing.assert_close(ref.flow_inverse(flow, z), x, rtol=1e-10, atol=1e-10)

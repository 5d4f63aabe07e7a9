"""Hidden tests of `gaussian_kl(mu, logvar)`: 0.5 * sum_k (mu^2 + exp(logvar) - logvar - 1), shape (N,).

Oracle: torch.distributions.kl_divergence of two Normals, summed over the latent dimensions, and a
Monte Carlo estimate E_q[log q(z) - log p(z)]. Also: finite and exact for logvar in [-30, 30],
zero only at the prior, gradients with random upstream, float32.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("gaussian_kl")

helpers = load_helpers(__file__)
F64, trusted_kl = helpers.F64, helpers.trusted_kl


def call(sub, mu, logvar):
    kl = sub.gaussian_kl(mu, logvar)
    ok = bool(isinstance(kl, torch.Tensor) and kl.shape == mu.shape[:1])
    assert ok, (
        f"gaussian_kl returns one value per sample, shape ({mu.shape[0]},): sum over the latent dimensions, "
        f"not over the batch; got {tuple(kl.shape) if isinstance(kl, torch.Tensor) else type(kl).__name__}")
    return kl


@pytest.mark.parametrize("N,K", [(1, 1), (5, 3), (3, 16)])
def test_matches_torch_distributions(sub, observe, device, gen, N, K):
    """equals torch.distributions.kl_divergence(N(mu, sigma), N(0, 1)) summed over the latent dimensions"""
    mu = 2 * torch.randn(N, K, generator=gen, dtype=F64)
    logvar = 2 * torch.randn(N, K, generator=gen, dtype=F64)
    kl = call(sub, mu.to(device), logvar.to(device))
    expect_close(kl.cpu(), trusted_kl(mu, logvar),
                 "KL(N(mu, diag exp(logvar)) || N(0, I)) = 0.5 * sum_k (mu^2 + exp(logvar) - logvar - 1), one per "
                 "sample (the 1/2, the signs, and a sum, not a mean, over k)", rtol=1e-9, atol=1e-10)
    observe("kl", kl)


@pytest.mark.parametrize("bound", [30.0, -30.0])
def test_extreme_logvar(sub, observe, device, gen, bound):
    """finite and exact for logvar of +-30"""
    mu = torch.randn(4, 3, generator=gen, dtype=F64)
    logvar = torch.full((4, 3), bound, dtype=F64)
    logvar[:, 0] = torch.randn(4, generator=gen, dtype=F64)
    kl = call(sub, mu.to(device), logvar.to(device))
    ok = bool(torch.isfinite(kl).all())
    assert ok, (
        f"gaussian_kl is not finite for logvar = {bound:g}: use logvar directly (never log(exp(logvar)))")
    expect_close(kl.cpu(), trusted_kl(mu, logvar), "the closed form at extreme log-variances", rtol=1e-9, atol=1e-9)
    observe("kl", kl)


def test_monte_carlo(sub, observe, device, gen):
    """agrees with a Monte Carlo estimate of E_q[log q(z) - log p(z)]"""
    mu = torch.randn(1, 3, generator=gen, dtype=F64)
    logvar = torch.randn(1, 3, generator=gen, dtype=F64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    z = mu + torch.exp(0.5 * logvar) * torch.randn(40_000, 3, generator=gen, dtype=F64)  # (40000, 3) from q
    log_ratio = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).sum(-1)
    estimate, stderr = log_ratio.mean(), log_ratio.std() / 200
    kl = call(sub, mu.to(device), logvar.to(device)).cpu()
    ok = bool((kl - estimate).abs() < 6 * stderr + 1e-3)
    assert ok, (
        f"gaussian_kl gives {kl.item():.4f}, a Monte Carlo estimate of E_q[log q(z) - log p(z)] gives "
        f"{estimate.item():.4f} +- {stderr.item():.4f}")
    observe("kl", kl)


def test_zero_only_at_the_prior(sub, observe, device, gen):
    """is 0 for mu = 0, logvar = 0 and positive elsewhere"""
    mu = torch.zeros(3, 4, dtype=F64)
    logvar = torch.zeros(3, 4, dtype=F64)
    mu[1, 2] = 0.3 * torch.rand(1, generator=gen, dtype=F64).item() + 0.1
    logvar[2, 0] = -0.5 * torch.rand(1, generator=gen, dtype=F64).item() - 0.1
    kl = call(sub, mu.to(device), logvar.to(device)).cpu()
    ok = bool(abs(kl[0].item()) < 1e-12 and kl[1] > 0 and kl[2] > 0)
    assert ok, (
        f"a KL is 0 at the prior itself and positive elsewhere; got {kl.tolist()}")
    observe("kl", kl)


def test_gradient_and_float32(sub, observe, device, gen):
    """gradients d/dmu = mu and d/dlogvar = (exp(logvar) - 1) / 2 (random upstream); float32 stays float32"""
    mu = torch.randn(4, 3, generator=gen, dtype=F64).to(device).requires_grad_(True)
    logvar = torch.randn(4, 3, generator=gen, dtype=F64).to(device).requires_grad_(True)
    upstream = torch.randn(4, generator=gen, dtype=F64).to(device)
    (call(sub, mu, logvar) * upstream).sum().backward()
    observe("mu.grad", mu.grad)
    observe("logvar.grad", logvar.grad)
    kl32 = call(sub, mu.detach().float(), logvar.detach().float())
    ok = bool(kl32.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give a float32 KL, got {kl32.dtype}")
    observe("kl (float32)", kl32)

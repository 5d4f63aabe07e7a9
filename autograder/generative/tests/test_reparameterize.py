"""Hidden tests of `reparameterize(mu, logvar, generator=None)`: z = mu + exp(logvar / 2) * eps.

How eps is drawn is yours (only that it comes from `generator`): the tests never compare z with a
stored value. They check invariants instead: the same generator state gives the same eps whatever
mu and logvar are; z has mean mu and standard deviation exp(logvar / 2) over many samples (Monte
Carlo, with tolerances of many standard errors); dz/dmu = 1 and dz/dlogvar = (z - mu) / 2.
"""

import math

import pytest
import torch

from autograder.testing import seeded

pytestmark = pytest.mark.question("reparameterize")

F64 = torch.float64


def draw(sub, mu, logvar, k):
    z = sub.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(seeded(k)))
    ok = bool(isinstance(z, torch.Tensor) and z.shape == mu.shape)
    assert ok, (
        f"reparameterize returns a tensor of mu's shape {tuple(mu.shape)}")
    again = sub.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(seeded(k)))
    ok = bool(torch.equal(z, again))
    assert ok, (
        "the same generator state must give the same z: draw eps from the `generator` argument")
    return z


def check_noise(eps, what):
    """eps of a big enough batch looks standard normal and independent across latent dimensions."""
    flat = eps.detach().cpu().reshape(-1)
    ok = bool(abs(flat.mean()) < 0.25 and abs(flat.std() - 1) < 0.2)
    assert ok, (
        f"{what}: (z - mu) / exp(logvar / 2) has mean {flat.mean():.2f} and std {flat.std():.2f}; the noise must be "
        "standard normal (torch.randn, not torch.rand)")
    corr = torch.corrcoef(eps.detach().cpu()[:, :2].T)[0, 1]
    ok = bool(abs(corr) < 0.5)
    assert ok, (
        f"{what}: the noise of two latent dimensions has correlation {corr:.2f}; draw one eps per sample AND per "
        "latent dimension (the shape of mu)")


@pytest.mark.parametrize("shape", [(1, 1), (400, 3), (100, 16)], ids=["1x1", "400x3", "100x16"])
def test_same_eps_whatever_mu_and_logvar(sub, observe, device, gen, shape):
    """(z - mu) / exp(logvar / 2) is the same standard normal eps for any mu and logvar; dz/dlogvar = (z - mu) / 2"""
    mu = torch.randn(shape, generator=gen, dtype=F64).to(device).requires_grad_(True)
    logvar = (2 * torch.randn(shape, generator=gen, dtype=F64)).to(device).requires_grad_(True)
    z = draw(sub, mu, logvar, 0)
    eps = (z - mu).detach() / torch.exp(0.5 * logvar.detach())
    mu2 = 3 * torch.randn(shape, generator=gen, dtype=F64).to(device)
    logvar2 = 2 * torch.randn(shape, generator=gen, dtype=F64).to(device)
    eps2 = (draw(sub, mu2, logvar2, 0) - mu2) / torch.exp(0.5 * logvar2)
    ok = bool(torch.allclose(eps, eps2, rtol=1e-9, atol=1e-9))
    assert ok, (
        "with the same generator state, (z - mu) / exp(logvar / 2) changed with mu and logvar: the noise must be "
        "scaled by the standard deviation exp(logvar / 2) (not logvar, not the variance exp(logvar)) and shifted by mu")
    if shape[0] > 1:
        check_noise(eps, f"a batch of shape {shape}")
    upstream = torch.randn(shape, generator=gen, dtype=F64).to(device)
    ok = bool(z.requires_grad)
    assert ok, (
        "z must stay on the autograd graph of mu and logvar: that is the point of the trick")
    (z * upstream).sum().backward()
    ok = bool(logvar.grad is not None and torch.allclose(logvar.grad, 0.5 * (z - mu).detach() * upstream,
                                                         rtol=1e-9, atol=1e-12))
    assert ok, (
        "dz/dlogvar must be exp(logvar / 2) * eps / 2 = (z - mu) / 2: compute sigma from logvar on the graph, "
        "and keep eps off it")
    observe("mu.grad", mu.grad)


def test_statistics(sub, observe, device, gen):
    """over 20,000 samples z has mean mu and standard deviation exp(logvar / 2), uncorrelated across dimensions"""
    n = 20_000
    mu = torch.randn(1, 3, generator=gen, dtype=F64)
    logvar = torch.empty(1, 3, dtype=F64).uniform_(-2.0, 2.0, generator=gen)
    z = draw(sub, mu.expand(n, 3).to(device), logvar.expand(n, 3).to(device), 1).cpu()
    std = torch.exp(0.5 * logvar[0])
    mean_err = ((z.mean(0) - mu[0]) / (std / math.sqrt(n))).abs().max().item()
    ok = bool(mean_err < 6)
    assert ok, (
        f"the sample mean of z is {mean_err:.1f} standard errors from mu: z = mu + sigma * eps needs eps ~ N(0, 1)")
    ratio = (z.std(0) / std - 1).abs().max().item()
    ok = bool(ratio < 0.05)
    assert ok, (
        f"the sample standard deviation of z is off by {ratio:.1%} from exp(logvar / 2): sigma = exp(logvar / 2), and "
        "eps must be standard normal (torch.randn, not torch.rand)")
    eps = (z - mu) / std
    corr = torch.corrcoef(eps.T)
    ok = bool((corr - torch.eye(3, dtype=F64)).abs().max() < 0.05)
    assert ok, (
        "the noise must be drawn independently for every sample and every latent dimension")
    observe("statistics hold", True)


def test_gradient(sub, observe, device, gen):
    """dz/dmu = 1 and dz/dlogvar = exp(logvar / 2) eps / 2 = (z - mu) / 2 (random upstream gradient)"""
    mu = torch.randn(5, 4, generator=gen, dtype=F64).to(device).requires_grad_(True)
    logvar = torch.randn(5, 4, generator=gen, dtype=F64).to(device).requires_grad_(True)
    upstream = torch.randn(5, 4, generator=gen, dtype=F64).to(device)
    z = draw(sub, mu, logvar, 2)
    ok = bool(z.requires_grad)
    assert ok, (
        "z must stay on the autograd graph of mu and logvar: that is the point of the trick")
    (z * upstream).sum().backward()
    ok = bool(mu.grad is not None and logvar.grad is not None)
    assert ok, (
        "both mu and logvar must receive a gradient")
    ok = bool(torch.allclose(logvar.grad, 0.5 * (z - mu).detach() * upstream, rtol=1e-9, atol=1e-12))
    assert ok, (
        "dz/dlogvar must be exp(logvar / 2) * eps / 2 = (z - mu) / 2: compute sigma from logvar on the graph, "
        "and keep eps off it")
    observe("mu.grad", mu.grad)


def test_float32_and_global_rng(sub, observe, device, gen):
    """keeps float32; without a generator, successive calls draw fresh noise"""
    mu = torch.randn(300, 2, generator=gen).to(device)
    logvar = torch.randn(300, 2, generator=gen).to(device)
    z = draw(sub, mu, logvar, 3)
    check_noise((z - mu).double() / torch.exp(0.5 * logvar.double()), "float32")
    ok = bool(z.dtype == torch.float32 and z.device == mu.device)
    assert ok, (
        f"z must keep mu's dtype float32 and device, got {z.dtype} on {z.device}")
    z1, z2 = sub.reparameterize(mu, logvar), sub.reparameterize(mu, logvar)
    ok = bool(not torch.equal(z1, z2))
    assert ok, (
        "with generator=None two calls must draw different noise (from the global generator)")
    observe("dtype", str(z.dtype))

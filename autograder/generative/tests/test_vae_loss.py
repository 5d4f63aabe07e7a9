"""Hidden tests of `vae_loss(x, x_logits, mu, logvar, beta=1.0) -> (loss, recon, kl)`.

recon = batch mean of sum_d (softplus(l_d) - x_d l_d) (the Bernoulli NLL from logits), kl = batch
mean of gaussian_kl, loss = recon + beta * kl. `gaussian_kl` is pointed at the tests' own KL, so
these tests depend on vae_loss alone. Oracle for recon: -(x log sigmoid(l) + (1 - x) log sigmoid(-l))
with torch's logsigmoid, summed in a loop over pixels. Extreme logits (+-100, +-1000): finite
values and the exact gradient (sigmoid(l) - x) / N.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close, load_helpers, substitute

pytestmark = pytest.mark.question("vae_loss")

helpers = load_helpers(__file__)
F64, trusted_kl = helpers.F64, helpers.trusted_kl


def oracle_recon(x, logits):
    total = torch.zeros(x.shape[0], dtype=x.dtype)
    for d in range(x.shape[1]):
        total = total - (x[:, d] * F.logsigmoid(logits[:, d]) + (1 - x[:, d]) * F.logsigmoid(-logits[:, d]))
    return total.mean()


def call(sub, x, x_logits, mu, logvar, beta=1.0, kl=trusted_kl):
    with substitute(sub, gaussian_kl=kl):
        out = sub.vae_loss(x, x_logits, mu, logvar, beta=beta)
    ok = bool(isinstance(out, tuple) and len(out) == 3
              and all(isinstance(t, torch.Tensor) and t.dim() == 0 for t in out))
    assert ok, (
        "vae_loss returns the triple (loss, recon, kl) of 0-d tensors (batch means)")
    return out


def inputs(gen, N, D, K, scale=3.0):
    x = torch.rand(N, D, generator=gen, dtype=F64)
    x_logits = scale * torch.randn(N, D, generator=gen, dtype=F64)
    mu, logvar = torch.randn(N, K, generator=gen, dtype=F64), torch.randn(N, K, generator=gen, dtype=F64)
    return x, x_logits, mu, logvar


@pytest.mark.parametrize("N,D,K", [(1, 1, 1), (6, 10, 3), (4, 64, 8)])
def test_recon_is_the_bernoulli_nll(sub, observe, device, gen, N, D, K):
    """recon is the Bernoulli NLL from logits, summed over pixels and averaged over the batch"""
    x, x_logits, mu, logvar = inputs(gen, N, D, K)
    loss, recon, kl = call(sub, *(t.to(device) for t in (x, x_logits, mu, logvar)))
    expect_close(recon.cpu(), oracle_recon(x, x_logits),
                 "recon = mean over the batch of sum over pixels of -(x log sigmoid(l) + (1 - x) log sigmoid(-l)) "
                 "= softplus(l) - x l (a sum over the data dimensions, a mean over the batch)", rtol=1e-9, atol=1e-9)
    observe("recon", recon)
    observe("loss", loss)


@pytest.mark.parametrize("beta", [0.0, 1.0, 3.5])
def test_loss_is_recon_plus_beta_kl(sub, observe, device, gen, beta):
    """kl is the batch mean of gaussian_kl and loss = recon + beta * kl"""
    x, x_logits, mu, logvar = (t.to(device) for t in inputs(gen, 5, 7, 3))
    loss, recon, kl = call(sub, x, x_logits, mu, logvar, beta)
    expect_close(kl, trusted_kl(mu, logvar).mean(), "kl = the batch mean of gaussian_kl(mu, logvar)",
                 rtol=1e-9, atol=1e-10)
    expect_close(loss, recon + beta * kl, f"loss = recon + beta * kl (the negative ELBO at beta = 1), beta = {beta}",
                 rtol=1e-9, atol=1e-10)
    observe("loss", loss)
    observe("kl", kl)


@pytest.mark.parametrize("magnitude", [100.0, 1000.0])
def test_extreme_logits(sub, observe, device, gen, magnitude):
    """finite, exact, and with gradient (sigmoid(l) - x) / N for logits of +-100 and +-1000"""
    N, D = 4, 6
    x = (torch.rand(N, D, generator=gen) < 0.5).to(F64)
    signs = torch.where(torch.rand(N, D, generator=gen) < 0.5, 1.0, -1.0).to(F64)
    x_logits = (magnitude * signs).to(device).requires_grad_(True)
    mu, logvar = (torch.randn(N, 2, generator=gen, dtype=F64).to(device) for _ in range(2))
    loss, recon, kl = call(sub, x.to(device), x_logits, mu, logvar, beta=0.5)
    ok = bool(torch.isfinite(recon))
    assert ok, (
        f"recon is {recon.item()} for logits of +-{magnitude:g}: log(sigmoid(l)) and log(1 - sigmoid(l)) round to "
        "log(0); use softplus(l) - x l")
    expect_close(recon.detach().cpu(), oracle_recon(x, x_logits.detach().cpu()),
                 "the exact Bernoulli NLL at extreme logits (each wrong pixel costs |l| nats)", rtol=1e-9, atol=1e-9)
    expect_close(loss, recon + 0.5 * kl, "loss = recon + beta * kl", rtol=1e-9, atol=1e-9, name="loss")
    recon.backward()
    expect_close(x_logits.grad.cpu(), (torch.sigmoid(x_logits.detach().cpu()) - x) / N,
                 "d recon / d logit = (sigmoid(l) - x) / N: a saturated sigmoid must not kill the gradient",
                 rtol=1e-9, atol=1e-12, name="x_logits.grad")
    observe("recon", recon)
    observe("loss", loss)


def test_gradients_float32(sub, observe, device, gen):
    """gradients reach x_logits, mu and logvar (random batch); float32 stays float32"""
    x, x_logits, mu, logvar = inputs(gen, 3, 5, 2)
    leaves = [t.float().to(device).requires_grad_(True) for t in (x_logits, mu, logvar)]
    loss, _, _ = call(sub, x.float().to(device), *leaves, beta=0.7)
    ok = bool(loss.dtype == torch.float32)
    assert ok, (
        f"float32 inputs must give a float32 loss, got {loss.dtype}")
    loss.backward()
    for name, t in zip(("x_logits", "mu", "logvar"), leaves):
        observe(f"{name}.grad", t.grad, rtol=1e-4, atol=1e-6)

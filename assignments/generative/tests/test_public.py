"""Public tests of the generative assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more shapes,
float32, extreme logits and log-variances, gradients, Monte Carlo statistics, independent oracles
(torch.distributions, autograd Jacobians) and, for `train`, a short training run of a VAE and a flow.

Questions are graded on their own: the tests of vae_loss, VAE and make_flow point the names
`gaussian_kl`, `reparameterize` and `AffineCoupling` at stand-ins, so call them BY NAME.
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import substitute

F64 = torch.float64


def load_random(module, gen, scale=0.5):
    """Fill every parameter of `module` (in name order) from `gen`: the tests never depend on your init."""
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.copy_(scale * torch.randn(p.shape, generator=gen, dtype=F64).to(p.dtype))
    return module


class Shift(nn.Module):
    """A stand-in flow layer (not a coupling): y = x * exp(a) + b elementwise, log_det = sum(a)."""

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return x * torch.exp(self.a) + self.b, self.a.sum().expand(x.shape[0])

    def inverse(self, y):
        return (y - self.b) * torch.exp(-self.a)


# --------------------------------------------------------------------------- reparameterize


@pytest.mark.question("reparameterize")
def test_reparameterize(sub, observe, device, gen, seed):
    """z = mu + exp(logvar / 2) * eps: the same generator state gives the same eps; gradients reach mu and logvar"""
    mu = torch.randn(200, 3, generator=gen, dtype=F64).to(device).requires_grad_(True)
    logvar = torch.randn(200, 3, generator=gen, dtype=F64).to(device).requires_grad_(True)
    z = sub.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(seed))
    ok = bool(isinstance(z, torch.Tensor) and z.shape == mu.shape and z.dtype == F64)
    assert ok, (
        "reparameterize returns a tensor of mu's shape and dtype")
    eps = ((z - mu) / torch.exp(0.5 * logvar)).detach()
    ok = bool(abs(eps.mean()) < 0.25 and abs(eps.std() - 1) < 0.2 and abs(torch.corrcoef(eps[:, :2].T.cpu())[0, 1]) < 0.5)
    assert ok, (
        "eps = (z - mu) / exp(logvar / 2) must be standard normal, drawn independently for every entry of mu "
        "(torch.randn of mu's shape)")
    z2 = sub.reparameterize(2 * mu, logvar - 1.0, generator=torch.Generator().manual_seed(seed))
    ok = bool(torch.allclose(z2, 2 * mu + torch.exp(0.5 * (logvar - 1.0)) * eps))
    assert ok, (
        "with the same generator state, (z - mu) / exp(logvar / 2) must be the same eps whatever mu and logvar are: "
        "z = mu + exp(logvar / 2) * eps, with the standard deviation exp(logvar / 2), not logvar itself")
    upstream = torch.randn(200, 3, generator=gen, dtype=F64).to(device)
    (z * upstream).sum().backward()
    observe("mu.grad", mu.grad)
    ok = bool(torch.allclose(logvar.grad, 0.5 * (z - mu).detach() * upstream))
    assert ok, (
        "dz/dlogvar must be exp(logvar / 2) * eps / 2 = (z - mu) / 2: keep eps off the graph and logvar on it")
    observe("shape", tuple(z.shape))


# --------------------------------------------------------------------------- gaussian_kl


@pytest.mark.question("gaussian_kl")
def test_gaussian_kl(sub, observe, device, gen):
    """matches the reference; zero for the prior itself"""
    mu = torch.randn(6, 4, generator=gen, dtype=F64).to(device)
    logvar = torch.randn(6, 4, generator=gen, dtype=F64).to(device)
    kl = sub.gaussian_kl(mu, logvar)
    ok = bool(isinstance(kl, torch.Tensor) and kl.shape == (6,))
    assert ok, (
        "gaussian_kl returns one KL per sample: shape (N,), summed over the latent dimensions")
    zero = sub.gaussian_kl(torch.zeros(2, 4, dtype=F64).to(device), torch.zeros(2, 4, dtype=F64).to(device))
    ok = bool(torch.allclose(zero, torch.zeros(2, dtype=F64).to(device)))
    assert ok, (
        "KL(N(0, I) || N(0, I)) must be 0")
    observe("kl", kl)


# --------------------------------------------------------------------------- vae_loss


def kl_recorder(mu, logvar):
    """A stand-in for gaussian_kl (not a KL): a simple per-sample function of its arguments."""
    return (mu + 0.5 * logvar).pow(2).sum(-1)


@pytest.mark.question("vae_loss")
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_vae_loss(sub, observe, device, gen, beta):
    """matches the reference (gaussian_kl replaced by a stand-in): loss = recon + beta * kl"""
    x = torch.rand(5, 8, generator=gen, dtype=F64).to(device)
    x_logits = 3 * torch.randn(5, 8, generator=gen, dtype=F64).to(device)
    mu, logvar = (torch.randn(5, 2, generator=gen, dtype=F64).to(device) for _ in range(2))
    with substitute(sub, gaussian_kl=kl_recorder):
        out = sub.vae_loss(x, x_logits, mu, logvar, beta=beta)
    ok = bool(isinstance(out, tuple) and len(out) == 3 and all(t.dim() == 0 for t in out))
    assert ok, (
        "vae_loss returns the triple (loss, recon, kl) of 0-d tensors (batch means)")
    loss, recon, kl = out
    ok = bool(torch.allclose(kl, kl_recorder(mu, logvar).mean()))
    assert ok, (
        "kl must be the batch mean of gaussian_kl(mu, logvar) (call gaussian_kl by name)")
    ok = bool(torch.allclose(loss, recon + beta * kl))
    assert ok, (
        "loss must be recon + beta * kl")
    observe("recon", recon)
    observe("loss", loss)


@pytest.mark.question("vae_loss")
def test_vae_loss_extreme_logits(sub, observe, device, gen):
    """recon is finite for logits of +-100"""
    x = (torch.rand(4, 6, generator=gen) < 0.5).to(F64).to(device)
    x_logits = 100.0 * torch.where(torch.rand(4, 6, generator=gen) < 0.5, 1.0, -1.0).to(F64).to(device)
    with substitute(sub, gaussian_kl=kl_recorder):
        _, recon, _ = sub.vae_loss(x, x_logits, torch.zeros(4, 2, dtype=F64).to(device),
                                   torch.zeros(4, 2, dtype=F64).to(device))
    ok = bool(torch.isfinite(recon))
    assert ok, (
        f"recon is {recon.item()} for logits of +-100: compute log sigmoid from the logit (softplus), "
        "not log(sigmoid(logit)), which is log(0) there")
    observe("recon", recon)


# --------------------------------------------------------------------------- vae


def reparam_stand_in(mu, logvar, generator=None):
    """A deterministic stand-in for reparameterize (not the answer)."""
    return mu + 0.5 * logvar


@pytest.mark.question("vae")
def test_vae_forward(sub, observe, device, gen):
    """forward returns (x_logits, mu, logvar) through encoder, to_mu, to_logvar, reparameterize, decoder"""
    model = load_random(sub.VAE(data_dim=10, hidden_dim=6, latent_dim=3).to(F64), gen).to(device)
    x = torch.rand(4, 10, generator=gen, dtype=F64).to(device)
    with substitute(sub, reparameterize=reparam_stand_in):
        out = model(x)
    ok = bool(isinstance(out, tuple) and len(out) == 3)
    assert ok, (
        "forward returns the triple (x_logits, mu, logvar)")
    x_logits, mu, logvar = out
    ok = bool(x_logits.shape == (4, 10) and mu.shape == (4, 3) and logvar.shape == (4, 3))
    assert ok, (
        "x_logits is (N, D); mu and logvar are (N, K)")
    observe("x_logits", x_logits)
    observe("mu", mu)
    observe("logvar", logvar)


@pytest.mark.question("vae")
def test_vae_sample(sub, observe, device, gen, seed):
    """sample(n) returns n probabilities in [0, 1] of shape (n, D)"""
    model = load_random(sub.VAE(data_dim=10, hidden_dim=6, latent_dim=3).to(F64), gen, scale=2.0).to(device)
    samples = model.sample(50, generator=torch.Generator().manual_seed(seed))
    ok = bool(isinstance(samples, torch.Tensor) and samples.shape == (50, 10))
    assert ok, (
        "sample(n) returns (n, D)")
    ok = bool(((samples >= 0) & (samples <= 1)).all() and (samples < 0.5).any() and (samples > 0.5).any())
    assert ok, (
        "samples are the decoder's probabilities sigmoid(logits), in [0, 1]")
    again = model.sample(50, generator=torch.Generator().manual_seed(seed))
    ok = bool(torch.equal(samples, again))
    assert ok, (
        "sample must draw its codes from the `generator` argument: the same generator state gave different samples")
    observe("shape", tuple(samples.shape))
    observe("dtype", str(samples.dtype))


# --------------------------------------------------------------------------- gan_losses


@pytest.mark.question("gan_losses")
def test_gan_losses(sub, observe, device, gen):
    """matches the reference on random logits (real and fake batches of different sizes)"""
    real = 2 * torch.randn(7, generator=gen, dtype=F64).to(device)
    fake = 2 * torch.randn(5, generator=gen, dtype=F64).to(device)
    d = sub.discriminator_loss(real, fake)
    g = sub.generator_loss(fake)
    ok = bool(d.dim() == 0 and g.dim() == 0)
    assert ok, (
        "both losses are 0-d tensors (batch means)")
    observe("discriminator_loss", d)
    observe("generator_loss", g)


@pytest.mark.question("gan_losses")
def test_gan_losses_extreme_logits(sub, observe, device):
    """finite for logits of +-100"""
    big = torch.tensor([100.0, -100.0], dtype=F64).to(device)
    d, g = sub.discriminator_loss(big, big), sub.generator_loss(big)
    ok = bool(torch.isfinite(d) and torch.isfinite(g))
    assert ok, (
        f"the losses are {d.item()} and {g.item()} for logits of +-100: compute log sigmoid(l) as -softplus(-l)")
    observe("discriminator_loss", d)
    observe("generator_loss", g)


# --------------------------------------------------------------------------- coupling


@pytest.mark.question("coupling")
def test_coupling(sub, observe, device, gen):
    """forward matches the reference; the masked features pass unchanged; inverse undoes forward"""
    mask = torch.tensor([1.0, 0.0, 1.0, 0.0])
    layer = load_random(sub.AffineCoupling(4, 8, mask).to(F64), gen).to(device)
    x = torch.randn(5, 4, generator=gen, dtype=F64).to(device)
    out = layer(x)
    ok = bool(isinstance(out, tuple) and len(out) == 2)
    assert ok, (
        "forward returns the pair (y, log_det)")
    y, log_det = out
    ok = bool(y.shape == x.shape and log_det.shape == (5,))
    assert ok, (
        "y is (N, D) and log_det is (N,)")
    ok = bool(torch.equal(y[:, [0, 2]], x[:, [0, 2]]))
    assert ok, (
        "the features where mask = 1 must pass through unchanged")
    ok = bool(torch.allclose(layer.inverse(y), x))
    assert ok, (
        "inverse(forward(x)) must give x back")
    observe("y", y)
    observe("log_det", log_det)


# --------------------------------------------------------------------------- flow_nll


@pytest.mark.question("flow_nll")
def test_flow_nll(sub, observe, device, gen):
    """matches the reference for two elementwise affine layers; no layers gives the standard normal NLL"""
    layers = [Shift(0.3 * torch.randn(3, generator=gen, dtype=F64).to(device),
                    torch.randn(3, generator=gen, dtype=F64).to(device)) for _ in range(2)]
    x = torch.randn(6, 3, generator=gen, dtype=F64).to(device)
    nll = sub.flow_nll(layers, x)
    ok = bool(isinstance(nll, torch.Tensor) and nll.dim() == 0)
    assert ok, (
        "flow_nll returns a 0-d tensor (the batch mean)")
    base = sub.flow_nll([], x)
    expected = (0.5 * x.pow(2).sum(-1) + 1.5 * math.log(2 * math.pi)).mean()
    ok = bool(torch.allclose(base, expected))
    assert ok, (
        "with no layers flow_nll is the standard normal's NLL, 0.5 ||x||^2 + (D / 2) log(2 pi), averaged")
    observe("nll", nll)


# --------------------------------------------------------------------------- train


class CouplingRecorder(nn.Module):
    """A stand-in for AffineCoupling: records its arguments and acts as y = 2 x + mask."""

    def __init__(self, dim, hidden_dim, mask):
        super().__init__()
        self.args = (dim, hidden_dim)
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32).clone())

    def forward(self, x):
        return 2 * x + self.mask.to(x.dtype), x.new_full((x.shape[0],), x.shape[1] * math.log(2))

    def inverse(self, y):
        return (y - self.mask.to(y.dtype)) / 2


@pytest.mark.question("train")
def test_make_flow(sub, observe, gen):
    """make_flow builds n_layers couplings (by name) with alternating masks; flow_inverse undoes them"""
    with substitute(sub, AffineCoupling=CouplingRecorder):
        flow = sub.make_flow(3, 7, 4)
    ok = bool(isinstance(flow, nn.ModuleList) and len(flow) == 4)
    assert ok, (
        "make_flow returns an nn.ModuleList of n_layers layers")
    ok = bool(all(layer.args == (3, 7) for layer in flow))
    assert ok, (
        "every layer is AffineCoupling(dim, hidden_dim, mask)")
    observe("masks", [layer.mask.tolist() for layer in flow])
    x = torch.randn(2, 3, generator=gen, dtype=F64)
    z = x
    for layer in flow:
        z = layer(z)[0]
    ok = bool(torch.allclose(sub.flow_inverse(flow, z), x))
    assert ok, (
        "flow_inverse(flow, f(x)) must give x back: run the inverses, last layer first")


@pytest.mark.question("train")
def test_flow_inverse(sub, observe, device, gen):
    """flow_inverse undoes the layers in reverse order"""
    layers = [Shift(0.3 * torch.randn(2, generator=gen, dtype=F64).to(device),
                    torch.randn(2, generator=gen, dtype=F64).to(device)) for _ in range(3)]
    x = torch.randn(4, 2, generator=gen, dtype=F64).to(device)
    z = x
    for layer in layers:
        z = layer(z)[0]
    x_back = sub.flow_inverse(layers, z)
    ok = bool(torch.allclose(x_back, x))
    assert ok, (
        "flow_inverse(layers, f(x)) must give x back: run the inverses, last layer first")
    observe("x", x_back)

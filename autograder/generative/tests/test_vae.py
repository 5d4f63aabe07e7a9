"""Hidden tests of `VAE`: forward(x, generator) -> (x_logits, mu, logvar); sample(n, generator) -> (n, D).

Weights are loaded through the skeleton's modules (encoder, to_mu, to_logvar, decoder) and
`reparameterize` is pointed at the tests' own (or at a recorder), so these tests depend on the VAE
alone. sample() is checked through a recording decoder: the codes it is given must be standard
normal (20,000 of them), and the samples must be sigmoid of what the decoder returns.
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import expect_close, load_helpers, seeded, substitute

pytestmark = pytest.mark.question("vae")

helpers = load_helpers(__file__)
F64, load_random, trusted_reparameterize = helpers.F64, helpers.load_random, helpers.trusted_reparameterize


def make(sub, gen, device, D=10, H=6, K=3, scale=0.5):
    model = sub.VAE(data_dim=D, hidden_dim=H, latent_dim=K)
    names = {n for n, _ in model.named_parameters()}
    modules = ("encoder.0", "to_mu", "to_logvar", "decoder.0", "decoder.2")
    wanted = {f"{m}.{p}" for m in modules for p in ("weight", "bias")}
    ok = bool(names == wanted)
    assert ok, (
        f"VAE must keep the skeleton's modules (encoder, to_mu, to_logvar, decoder) and add no parameters; "
        f"it has {sorted(names)}")
    return load_random(model.to(F64), gen, scale).to(device)


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, mu, logvar, generator=None):
        self.calls.append((mu, logvar, generator))
        return mu + 0.3 * logvar.exp()


def forward(model, x, generator=None):
    out = model(x, generator=generator)
    ok = bool(isinstance(out, tuple) and len(out) == 3)
    assert ok, (
        "forward returns the triple (x_logits, mu, logvar)")
    return out


class RecordingDecoder(nn.Sequential):
    """Stands in for the decoder (an nn.Sequential whose last layer is a Linear, like the skeleton's):
    records the codes it gets and returns 4 z W."""

    def __init__(self, K, D, gen):
        super().__init__(nn.Linear(K, D, bias=False).to(F64))
        with torch.no_grad():
            self[0].weight.copy_(torch.randn(K, D, generator=gen, dtype=F64).T)
        self.inputs = []

    @property
    def weight(self):
        return self[0].weight.detach().T.cpu()  # (K, D)

    def forward(self, z):
        self.inputs.append(z)
        return 4 * self[0](z)


def check_forward(sub, model, gen, device):
    """forward(x, g) = decoder(reparameterize(to_mu(h), to_logvar(h), g)), h = encoder(x), checked with the
    tests' reparameterize and the model's own modules."""
    x = torch.rand(3, model.encoder[0].weight.shape[1], generator=gen,
                   dtype=F64).to(device)
    with substitute(sub, reparameterize=trusted_reparameterize):
        x_logits, mu, logvar = forward(model, x, torch.Generator().manual_seed(seeded(10)))
        with torch.no_grad():
            h = model.encoder(x)
            mu_o, logvar_o = model.to_mu(h), model.to_logvar(h)
            z = trusted_reparameterize(mu_o, logvar_o, torch.Generator().manual_seed(seeded(10)))
            logits_o = model.decoder(z)
    expect_close(mu, mu_o, "mu = to_mu(encoder(x))", rtol=1e-9, atol=1e-10, name="mu")
    expect_close(logvar, logvar_o, "logvar = to_logvar(encoder(x))", rtol=1e-9, atol=1e-10, name="logvar")
    expect_close(x_logits, logits_o, "x_logits = decoder(reparameterize(mu, logvar, generator)): the logits of a "
                 "sampled code (not of mu, no sigmoid), with forward's generator passed on", rtol=1e-9, atol=1e-10,
                 name="x_logits")


def check_sample(model, gen, n=4000):
    """sample(n, g) decodes n codes z ~ N(0, I) drawn from g, returns sigmoid(decoder(z)); same g, same samples."""
    original = model.decoder
    K, D = model.to_mu.weight.shape[0], original[-1].weight.shape[0]
    model.decoder = RecordingDecoder(K, D, gen).to(original[-1].weight.device)
    try:
        samples = model.sample(n, generator=torch.Generator().manual_seed(seeded(11)))
        again = model.sample(n, generator=torch.Generator().manual_seed(seeded(11)))
        calls = list(model.decoder.inputs)
    finally:
        recorder, model.decoder = model.decoder, original
    ok = bool(len(calls) == 2)
    assert ok, (
        f"sample called the decoder {len(calls) // 2 if calls else 0} times per call; decode all n codes at once")
    z = calls[0].detach().cpu()
    ok = bool(z.shape == (n, K))
    assert ok, (
        f"the decoder must get codes of shape (n, K) = {(n, K)}, got {tuple(z.shape)}")
    ok = bool(z.mean(0).abs().max() < 6 / math.sqrt(n) and (z.std(0) - 1).abs().max() < 0.06)
    assert ok, (
        "the codes sample() decodes must be drawn from the prior N(0, I) (torch.randn), not from the encoder or "
        "torch.rand")
    ok = bool(isinstance(samples, torch.Tensor) and samples.shape == (n, D))
    assert ok, (
        "sample(n) returns (n, D)")
    ok = bool(torch.allclose(samples.cpu().double(), torch.sigmoid(4 * z.double() @ recorder.weight)))
    assert ok, (
        "the samples must be the probabilities sigmoid(decoder(z)), in [0, 1]")
    ok = bool(torch.equal(samples, again))
    assert ok, (
        "sample must draw its codes from the `generator` argument: the same generator state gave different samples")


@pytest.mark.parametrize("N", [1, 5])
def test_forward_matches(sub, observe, device, gen, N):
    """forward = decoder(reparameterize(to_mu(h), to_logvar(h))), h = encoder(x), with a trusted reparameterize"""
    model = make(sub, gen, device)
    x = torch.rand(N, 10, generator=gen, dtype=F64).to(device)
    with substitute(sub, reparameterize=trusted_reparameterize):
        x_logits, mu, logvar = forward(model, x, torch.Generator().manual_seed(seeded(0)))
    ok = bool(x_logits.shape == (N, 10) and mu.shape == (N, 3) and logvar.shape == (N, 3))
    assert ok, (
        "x_logits is (N, D); mu and logvar are (N, K)")
    observe("x_logits", x_logits)
    observe("mu", mu)
    observe("logvar", logvar)
    check_sample(model, gen)


def test_forward_calls_reparameterize(sub, observe, device, gen):
    """forward passes (mu, logvar, generator) to reparameterize and decodes what it returns (logits, no sigmoid)"""
    model = make(sub, gen, device)
    x = torch.rand(4, 10, generator=gen, dtype=F64).to(device)
    recorder = Recorder()
    g = torch.Generator().manual_seed(seeded(1))
    with substitute(sub, reparameterize=recorder):
        x_logits, mu, logvar = forward(model, x, g)
    ok = bool(len(recorder.calls) == 1)
    assert ok, (
        f"forward called reparameterize {len(recorder.calls)} times; call it once, by name")
    r_mu, r_logvar, r_gen = recorder.calls[0]
    ok = bool(r_gen is g)
    assert ok, (
        "forward must pass its generator on to reparameterize")
    ok = bool(torch.equal(r_mu, mu) and torch.equal(r_logvar, logvar))
    assert ok, (
        "reparameterize must get (mu, logvar), the ones forward returns, in that order")
    with torch.no_grad():
        expected = model.decoder(recorder(r_mu, r_logvar))
    ok = bool(torch.allclose(x_logits, expected))
    assert ok, (
        "x_logits must be the decoder's output on the sampled z: logits, with no sigmoid")
    observe("mu", mu)
    observe("logvar", logvar)
    check_sample(model, gen)


def test_gradients(sub, observe, device, gen):
    """every parameter gets its gradient (random upstream, trusted reparameterize)"""
    model = make(sub, gen, device)
    x = torch.rand(3, 10, generator=gen, dtype=F64).to(device)
    with substitute(sub, reparameterize=trusted_reparameterize):
        x_logits, mu, logvar = forward(model, x, torch.Generator().manual_seed(seeded(2)))
    up = [torch.randn(t.shape, generator=gen, dtype=F64).to(device) for t in (x_logits, mu, logvar)]
    sum((t * u).sum() for t, u in zip((x_logits, mu, logvar), up)).backward()
    for name, p in sorted(model.named_parameters()):
        ok = bool(p.grad is not None)
        assert ok, (
            f"VAE.{name} got no gradient: forward must use it")
        observe(f"{name}.grad", p.grad)
    check_sample(model, gen)


def test_sample_decodes_standard_normal_codes(sub, observe, device, gen, seed):
    """sample(n) decodes n codes z ~ N(0, I) (checked over 20,000) and returns sigmoid of the logits"""
    model = make(sub, gen, device, K=3)
    original, model.decoder = model.decoder, RecordingDecoder(3, 10, gen).to(device)
    n = 20_000
    samples = model.sample(n, generator=torch.Generator().manual_seed(seed))
    ok = bool(torch.equal(samples, model.sample(n, generator=torch.Generator().manual_seed(seed))))
    assert ok, (
        "sample must draw its codes from the `generator` argument: the same generator state gave different samples")
    ok = bool(len(model.decoder.inputs) == 2)
    assert ok, (
        f"two calls of sample called the decoder {len(model.decoder.inputs)} times; decode all n codes at once")
    z = model.decoder.inputs[0].detach().cpu()
    ok = bool(z.shape == (n, 3))
    assert ok, (
        f"the decoder must get codes of shape (n, K) = {(n, 3)}, got {tuple(z.shape)}")
    ok = bool(z.mean(0).abs().max() < 6 / math.sqrt(n) and (z.std(0) - 1).abs().max() < 0.05)
    assert ok, (
        "the codes must be drawn from the prior N(0, I) (torch.randn), not from the encoder or torch.rand")
    ok = bool(isinstance(samples, torch.Tensor) and samples.shape == (n, 10))
    assert ok, (
        "sample(n) returns (n, D)")
    ok = bool(torch.allclose(samples.cpu(), torch.sigmoid(4 * z @ model.decoder.weight)))
    assert ok, (
        "the samples must be the probabilities sigmoid(decoder(z)), in [0, 1]")
    observe("shape", tuple(samples.shape))
    model.decoder = original
    check_forward(sub, model, gen, device)


def test_sample_uses_the_generator(sub, observe, device, gen, seed):
    """the same generator state gives the same samples; float64 in, float64 out"""
    model = make(sub, gen, device, scale=1.5)
    a = model.sample(6, generator=torch.Generator().manual_seed(seed))
    b = model.sample(6, generator=torch.Generator().manual_seed(seed))
    ok = bool(torch.equal(a, b))
    assert ok, (
        "sample must draw its codes from the `generator` argument")
    ok = bool(a.dtype == F64 and ((a >= 0) & (a <= 1)).all())
    assert ok, (
        f"samples must be probabilities in [0, 1] with the model's dtype float64, got {a.dtype}")
    observe("dtype", str(a.dtype))
    check_forward(sub, model, gen, device)
    check_sample(model, gen)

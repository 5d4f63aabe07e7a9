"""Hidden tests of `make_flow(dim, hidden_dim, n_layers)` and `flow_inverse(flow_layers, z)` (question
`train`), then the integration tests.

make_flow is checked with `AffineCoupling` pointed at a recorder (the masks must alternate: layer k
keeps the features d with d + k even), flow_inverse with the tests' own couplings, so these depend on
the train cell alone. The integration tests train, for a fixed small CPU budget and from fixed
weights, (1) your VAE with your vae_loss on the digits and (2) a flow made by your make_flow (your
AffineCoupling) with your flow_nll on the standardised moons, and require a held-out negative ELBO
and a held-out NLL that the reference clears with margin and a model that ignores its input cannot
(`reparameterize` and `gaussian_kl` are the tests' own there: they have their own questions). The held-out
numbers are computed by the tests' own formulas (binary cross-entropy with logits, KL, change of variables),
not by your vae_loss and flow_nll.
"""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.testing import expect_close, load_helpers, substitute

pytestmark = pytest.mark.question("train")

helpers = load_helpers(__file__)
F64, TrustedCoupling = helpers.F64, helpers.TrustedCoupling


class CouplingRecorder(nn.Module):
    """Stands in for AffineCoupling: records its arguments; y = x * c + mask with a scale c of its own, so
    that the order in which layers are undone matters."""

    count = 0

    def __init__(self, dim, hidden_dim, mask):
        super().__init__()
        self.args = (dim, hidden_dim)
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32).clone())
        CouplingRecorder.count += 1
        self.c = 1.0 + 0.5 * CouplingRecorder.count

    def forward(self, x):
        return x * self.c + self.mask.to(x.dtype), x.new_full((x.shape[0],), math.log(self.c) * x.shape[1])

    def inverse(self, y):
        return (y - self.mask.to(y.dtype)) / self.c


def build(sub, coupling, dim, hidden, n_layers):
    with substitute(sub, AffineCoupling=coupling):
        flow = sub.make_flow(dim, hidden, n_layers)
    ok = bool(isinstance(flow, nn.ModuleList) and len(flow) == n_layers)
    assert ok, (
        f"make_flow returns an nn.ModuleList of n_layers = {n_layers} layers (so that .parameters() and .to() "
        "see them)")
    ok = bool(all(isinstance(layer, coupling) for layer in flow))
    assert ok, (
        "every layer must be AffineCoupling(dim, hidden_dim, mask), built by name")
    masks = [layer.mask.tolist() for layer in flow]
    expected = [[float((d + k) % 2 == 0) for d in range(dim)] for k in range(n_layers)]
    ok = bool(masks == expected)
    assert ok, (
        f"the masks must alternate, layer k keeping (mask 1) the features d with d + k even: expected {expected}, "
        f"got {masks}")
    return flow


def check_inverse(sub, flow, x):
    """flow_inverse(flow, f(x)) = x: each layer's inverse, the last layer first."""
    with torch.no_grad():
        z = x
        for layer in flow:
            z = layer(z)[0]
        x_back = sub.flow_inverse(flow, z)
    ok = bool(isinstance(x_back, torch.Tensor) and x_back.shape == x.shape)
    assert ok, (
        "flow_inverse returns a tensor of z's shape")
    expect_close(x_back, x, "flow_inverse(layers, f(x)) = x: apply each layer's inverse, the last layer first "
                 "(and inverse, not forward)", rtol=1e-9, atol=1e-9, name="x")
    return x_back


@pytest.mark.parametrize("dim,n_layers", [(2, 2), (2, 4), (5, 3), (1, 2)])
def test_make_flow_masks(sub, observe, device, gen, dim, n_layers):
    """n_layers couplings built by name, layer k keeping the features d with d + k even; flow_inverse undoes them"""
    flow = build(sub, CouplingRecorder, dim, 7, n_layers)
    ok = bool(all(layer.args == (dim, 7) for layer in flow))
    assert ok, (
        "every layer is AffineCoupling(dim, hidden_dim, mask)")
    observe("masks", [layer.mask.tolist() for layer in flow])
    check_inverse(sub, flow.to(device), torch.randn(5, dim, generator=gen, dtype=F64).to(device))


@pytest.mark.parametrize("dim,n_layers", [(2, 3), (4, 4)])
def test_flow_inverse(sub, observe, device, gen, dim, n_layers):
    """a flow of the tests' couplings from make_flow: flow_inverse undoes the forward pass"""
    flow = build(sub, TrustedCoupling, dim, 8, n_layers)
    for layer in flow:
        helpers.load_random(layer.to(F64), gen, 1.0)
    x_back = check_inverse(sub, flow.to(device), torch.randn(7, dim, generator=gen, dtype=F64).to(device))
    observe("x", x_back)


# --------------------------------------------------------------------------- integration


def uniform_init(module, gen):
    """PyTorch's default Linear init from a fixed generator: your RNG calls do not matter."""
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            if p.dim() == 2:
                bound = 1 / p.shape[1] ** 0.5
                p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=gen))
            else:
                p.zero_()
    return module


VAE_STEPS, VAE_LR, VAE_THRESHOLD = 300, 1e-2, 26.0
FLOW_STEPS, FLOW_LR, FLOW_THRESHOLD = 300, 1e-2, 2.2


def test_vae_learns_the_digits(sub, observe, device):
    """a VAE built from your VAE and trained with your vae_loss reaches a held-out negative ELBO below 26 nats"""
    from shared.data import digits_tensors

    train_set, val_set = digits_tensors(seed=0)
    X, X_val = train_set.tensors[0].to(device), val_set.tensors[0].to(device)
    gen = torch.Generator().manual_seed(1)  # fixed: the budget was measured on this run
    model = uniform_init(sub.VAE(64, 64, 8), gen).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=VAE_LR)
    data_gen = torch.Generator().manual_seed(11)
    losses = []
    with substitute(sub, reparameterize=helpers.trusted_reparameterize, gaussian_kl=helpers.trusted_kl):
        for _ in range(VAE_STEPS):
            x = X[torch.randint(len(X), (128,), generator=data_gen).to(device)]
            x_logits, mu, logvar = model(x, generator=data_gen)
            loss = sub.vae_loss(x, x_logits, mu, logvar)[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():  # judged with the tests' own negative ELBO, not with your vae_loss
            x_logits, mu, logvar = model(X_val, generator=torch.Generator().manual_seed(0))
            recon = F.binary_cross_entropy_with_logits(x_logits, X_val, reduction="sum") / len(X_val)
            nelbo = (recon + helpers.trusted_kl(mu, logvar).mean()).item()
    ok = bool(math.isfinite(nelbo) and nelbo < VAE_THRESHOLD)
    assert ok, (
        f"after {VAE_STEPS} Adam steps the held-out negative ELBO is {nelbo:.2f} nats (the reference reaches about 25; "
        f"below {VAE_THRESHOLD:g} is needed; a VAE that ignores its input, decoding the mean image, gets about 27.3); "
        f"the training loss went from {losses[0]:.1f} to {losses[-1]:.1f}. Check VAE.forward and vae_loss (recon "
        "summed over pixels, the KL's weight)")
    observe("held-out negative ELBO below the threshold", True)


def test_flow_learns_the_moons(sub, observe, device):
    """a flow from your make_flow (your couplings) trained with your flow_nll reaches a held-out NLL below 2.2 nats"""
    from shared.data import moons

    X = moons(1500, noise=0.05, seed=0)[0]
    X = ((X - X.mean(0)) / X.std(0)).to(device)
    X_train, X_val = X[:1000], X[1000:]
    gen = torch.Generator().manual_seed(2)  # fixed: the budget was measured on this run
    flow = sub.make_flow(2, 32, 4)
    for layer in flow:
        uniform_init(layer, gen)
    flow = flow.to(device)
    opt = torch.optim.Adam(flow.parameters(), lr=FLOW_LR)
    data_gen = torch.Generator().manual_seed(12)
    losses = []
    for _ in range(FLOW_STEPS):
        loss = sub.flow_nll(flow, X_train[torch.randint(len(X_train), (256,), generator=data_gen).to(device)])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():  # judged with the tests' own change of variables, not with your flow_nll
        z, log_det = X_val, torch.zeros(len(X_val), device=X_val.device)
        for layer in flow:
            z, ld = layer(z)
            log_det = log_det + ld
        nll = -(torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1) + log_det).mean().item()
    ok = bool(math.isfinite(nll) and nll < FLOW_THRESHOLD)
    assert ok, (
        f"after {FLOW_STEPS} Adam steps the held-out NLL is {nll:.3f} nats (the reference reaches about 1.5; below "
        f"{FLOW_THRESHOLD:g} is needed; a flow that ignores the structure of the data, a standard normal, gets 2.81); "
        f"the training loss went from {losses[0]:.2f} to {losses[-1]:.2f}. Check make_flow's masks, AffineCoupling "
        "and flow_nll")
    observe("held-out NLL below the threshold", True)

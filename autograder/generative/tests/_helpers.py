"""Input makers and trusted stand-ins shared by the generative hidden tests (not a test file: the
grader collects only test_*.py). Each test file loads this file with ``load_helpers(__file__)``,
which registers it as trusted without making it importable by name.

- ``load_random``: fills a module's parameters from a generator (the tests never use your init).
- ``trusted_reparameterize``, ``trusted_kl``: the tests' own reparameterisation and Gaussian KL
  (torch.distributions), swapped in so that VAE and vae_loss are graded on their own.
- ``TrustedCoupling``: the tests' own affine coupling (a loop over features), for make_flow,
  flow_inverse and flow_nll.
- ``Shift``: an elementwise affine flow layer whose log-det is the same for every sample.
"""

import torch
import torch.nn as nn

F64 = torch.float64


def load_random(module, gen, scale=0.5):
    """Fill every parameter of ``module`` (in name order) with scale * N(0, 1) from ``gen``."""
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.copy_(scale * torch.randn(p.shape, generator=gen, dtype=F64).to(p.dtype))
    return module


def trusted_reparameterize(mu, logvar, generator=None):
    """mu + sqrt(exp(logvar)) * eps, eps drawn as the skeleton documents (so inlined code agrees)."""
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.sqrt(torch.exp(logvar)) * eps


def trusted_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, 1)) summed over the last dimension, by torch.distributions."""
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.distributions.kl_divergence(q, p).sum(-1)


class TrustedCoupling(nn.Module):
    """The tests' affine coupling, feature by feature; same constructor and parameter names as yours."""

    def __init__(self, dim, hidden_dim, mask):
        super().__init__()
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.float32).reshape(dim).clone())
        self.net = nn.Sequential(nn.Linear(dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                 nn.Linear(hidden_dim, 2 * dim))

    def _s_t(self, x):
        out = self.net(x * self.mask.to(x.dtype))
        dim = x.shape[-1]
        return torch.tanh(out[:, :dim]), out[:, dim:]

    def forward(self, x):
        s, t = self._s_t(x)
        cols, log_det = [], torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for d in range(x.shape[-1]):
            if self.mask[d] > 0:
                cols.append(x[:, d])
            else:
                cols.append(x[:, d] * torch.exp(s[:, d]) + t[:, d])
                log_det = log_det + s[:, d]
        return torch.stack(cols, dim=1), log_det

    def inverse(self, y):
        s, t = self._s_t(y)
        cols = [y[:, d] if self.mask[d] > 0 else (y[:, d] - t[:, d]) / torch.exp(s[:, d]) for d in range(y.shape[-1])]
        return torch.stack(cols, dim=1)


class Shift(nn.Module):
    """y = x * exp(a) + b elementwise; log_det = sum(a) for every sample."""

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return x * torch.exp(self.a) + self.b, self.a.sum().expand(x.shape[0])

    def inverse(self, y):
        return (y - self.b) * torch.exp(-self.a)


def trusted_flow(gen, dim, n_layers, hidden=8, scale=0.7):
    """n_layers TrustedCoupling layers with alternating masks and random weights (float64)."""
    layers = []
    for k in range(n_layers):
        mask = ((torch.arange(dim) + k) % 2 == 0).float()
        layers.append(load_random(TrustedCoupling(dim, hidden, mask).to(F64), gen, scale))
    return layers

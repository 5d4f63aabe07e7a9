"""Trusted stand-ins and toy models shared by the diffusion hidden tests (not a test file: the
grader collects only test_*.py). Each test file loads this file with `load_helpers(__file__)`
below, without registering a module, so a submission cannot import it by name.

The stand-ins reach the same values as the reference by other routes: per-sample Python loops,
the precision-weighted (Bayes) form of the posterior, the eps form of the DDIM update.
"""

import math

import torch
import torch.nn as nn

F64 = torch.float64


# --------------------------------------------------------------------------- schedules


def linear_betas(T, start=1e-4, end=0.02):
    return torch.linspace(start, end, T, dtype=F64)


def cosine_betas(T, s=0.008, max_beta=0.999):
    """Computed one step at a time in Python floats."""
    def f(t):
        return math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    return torch.tensor([min(1 - f(t + 1) / f(t), max_beta) for t in range(T)], dtype=F64)


def alphas_cumprod(betas):
    out, prod = [], 1.0
    for b in betas.tolist():
        prod *= 1 - b
        out.append(prod)
    return torch.tensor(out, dtype=F64, device=betas.device)


# --------------------------------------------------------------------------- trusted question stand-ins


def _per_sample(values, t, like):
    """values[t[i]] for every sample i, shaped (B, 1, ..., 1) like `like`, on like's device."""
    picked = torch.index_select(values.cpu(), 0, t.cpu().long())
    return picked.to(like.device).view(len(t), *([1] * (like.dim() - 1)))


def trusted_q_sample(x0, t, noise, alphas_cumprod):
    ab = _per_sample(alphas_cumprod, t, x0)
    return (torch.sqrt(ab) * x0.to(F64) + torch.sqrt(1 - ab) * noise.to(F64)).to(x0.dtype)


def trusted_posterior_mean_variance(x0, xt, t, betas):
    """Bayes in precision form: 1/var = alpha_t / beta_t + 1 / (1 - ab_{t-1}); at t = 0 the mean is x0."""
    b = betas.cpu().to(F64)
    ab_prev_all = torch.cat([torch.ones(1, dtype=F64), alphas_cumprod(b)[:-1]])
    first = _per_sample(torch.arange(len(b)) == 0, t, x0)  # (B, 1, ..., 1) bool
    beta = _per_sample(b, t, x0)
    ab_prev = torch.where(first, 0.5, _per_sample(ab_prev_all, t, x0))  # any value < 1 where t = 0
    precision = (1 - beta) / beta + 1 / (1 - ab_prev)
    m = (torch.sqrt(1 - beta) / beta * xt.to(F64) + torch.sqrt(ab_prev) / (1 - ab_prev) * x0.to(F64)) / precision
    mean = torch.where(first, x0.to(F64), m)
    var = torch.where(first, 0.0, 1 / precision)
    return mean.to(x0.dtype), var.to(x0.dtype)


def trusted_ddim_step(xt, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    """The same update written with x0_hat eliminated: coefficients of x_t and eps."""
    a = float(alphas_cumprod[t])
    ap = 1.0 if t_prev < 0 else float(alphas_cumprod[t_prev])
    var = (eta**2) * (1 - ap) / (1 - a) * (1 - a / ap)
    c_x = math.sqrt(ap / a)
    c_eps = math.sqrt(max(1 - ap - var, 0.0)) - math.sqrt(ap) * math.sqrt(1 - a) / math.sqrt(a)
    out = c_x * xt.to(F64) + c_eps * eps.to(F64)
    if eta > 0:
        if noise is None:
            noise = torch.randn_like(xt)
        out = out + math.sqrt(var) * noise.to(F64)
    return out.to(xt.dtype)


TRUSTED = dict(q_sample=trusted_q_sample, posterior_mean_variance=trusted_posterior_mean_variance,
               ddim_step=trusted_ddim_step)


# --------------------------------------------------------------------------- stand-in models


class RecordingModel(nn.Module):
    """eps(x, t) = 0.5 tanh(x) + 0.01 t / T (per sample, deterministic); records every call."""

    def __init__(self, T):
        super().__init__()
        self.T = T
        self.calls = []  # (x, t, eps) per call, detached copies on the CPU

    def forward(self, x, t):
        if not (isinstance(t, torch.Tensor) and t.dtype == torch.long and t.shape == (x.shape[0],)):
            raise TypeError(f"the model must be called as model(x, t) with t a (B,) long tensor, B = {x.shape[0]}; "
                            f"got t = {t!r}"[:300])
        scale = (t.to(x.dtype) / self.T).view(-1, *([1] * (x.dim() - 1)))
        eps = 0.5 * torch.tanh(x) + 0.01 * scale
        self.calls.append((x.detach().cpu().clone(), t.detach().cpu().clone(), eps.detach().cpu().clone()))
        return eps


class TimeEmbedding(nn.Module):
    """(B,) long steps -> (B, 2 * n_freqs): sin and cos of pi 2^k t / T."""

    def __init__(self, T, n_freqs=6):
        super().__init__()
        self.T = T
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(n_freqs))

    def forward(self, t):
        angles = (t.float() / self.T)[:, None] * self.freqs
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


class ToyDenoiser(nn.Module):
    """eps_theta(x, t) for 2-D points: an MLP on [x, embedding of t]."""

    def __init__(self, T, width=64):
        super().__init__()
        self.embed = TimeEmbedding(T)
        self.net = nn.Sequential(nn.Linear(2 + 12, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                 nn.Linear(width, 2))

    def forward(self, x, t):
        return self.net(torch.cat([x, self.embed(t)], dim=-1))


def chamfer(a, b):
    """Symmetric Chamfer distance: the mean distance from each point of ``a`` to its nearest point of
    ``b``, plus the same from ``b`` to ``a``. Samples off the data raise the first term; data the
    samples do not cover (a lost mode) the second."""
    d = torch.cdist(a.to(F64), b.to(F64))
    return float(d.min(dim=1).values.mean() + d.min(dim=0).values.mean())


def corr(a, b):
    a, b = a.flatten().to(F64), b.flatten().to(F64)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm()))

"""Hidden tests of `posterior_mean_variance(x0, xt, t, betas) -> (mean, variance)`: the mean and the
variance beta_t (1 - ab_{t-1}) / (1 - ab_t) of q(x_{t-1} | x_t, x_0), with ab_{-1} = 1; the mean has
x0's shape, the variance shape (B, 1, ..., 1).
"""


import pytest
import torch

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("posterior")

T = 30
SHAPES = [(6,), (6, 2), (6, 1, 4, 4)]


def inputs(gen, shape, dtype=F64):
    x0 = torch.randn(shape, generator=gen, dtype=F64).to(dtype)
    xt = torch.randn(shape, generator=gen, dtype=F64).to(dtype)
    t = torch.randint(1, T - 1, (shape[0],), generator=gen)
    t[0], t[1], t[-1] = 0, 1, T - 1  # the first step, the second and the last
    betas = H.linear_betas(T, 1e-3, 0.2)
    return x0, xt, t, betas


def run(sub, device, x0, xt, t, betas):
    out = sub.posterior_mean_variance(x0.to(device), xt.to(device), t.to(device), betas.to(device))
    assert isinstance(out, tuple) and len(out) == 2, "posterior_mean_variance must return a tuple (mean, variance)"
    mean, var = out
    B = x0.shape[0]
    var_shape = (B,) + (1,) * (x0.dim() - 1)
    assert mean.shape == x0.shape, f"the mean must have x0's shape {tuple(x0.shape)}, got {tuple(mean.shape)}"
    assert tuple(var.shape) == var_shape, (
        f"the variance must have shape {var_shape} (one number per sample, ready to broadcast), got {tuple(var.shape)}")
    assert mean.dtype == x0.dtype and var.dtype == x0.dtype, (
        f"mean and variance must be in x0's dtype {x0.dtype}, got {mean.dtype} and {var.dtype}")
    return mean.cpu(), var.cpu()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_values(sub, observe, device, gen, shape):
    """mean and variance match the reference for data of any rank"""
    x0, xt, t, betas = inputs(gen, shape)
    mean, var = run(sub, device, x0, xt, t, betas)
    observe("mean", mean)
    observe("variance", var)


def test_bayes(sub, observe, device, gen):
    """agrees with Bayes' rule in precision form (1/var = alpha_t/beta_t + 1/(1 - ab_{t-1}))"""
    x0, xt, t, betas = inputs(gen, (8, 3))
    mean, var = run(sub, device, x0, xt, t, betas)
    m, v = H.trusted_posterior_mean_variance(x0, xt, t, betas)
    err_m, err_v = float((mean - m).abs().max()), float((var - v).abs().max())
    assert err_m < 1e-8 and err_v < 1e-10, (
        f"the posterior differs from Bayes' rule by {err_m:.3g} (mean) and {err_v:.3g} (variance): the mean is "
        "sqrt(ab_prev) beta / (1 - ab) x0 + sqrt(alpha) (1 - ab_prev) / (1 - ab) xt, the variance "
        "beta (1 - ab_prev) / (1 - ab), with ab_prev = alpha_bar_{t-1}")
    observe("max mean error", err_m, rtol=0.0, atol=1e-8)
    observe("max variance error", err_v, rtol=0.0, atol=1e-10)


def test_first_step(sub, observe, device, gen):
    """at t = 0 the mean is x0 and the variance 0 (alpha_bar_{-1} = 1, not alpha_bar[-1])"""
    x0, xt, _, betas = inputs(gen, (4, 2))
    mean, var = run(sub, device, x0, xt, torch.zeros(4, dtype=torch.long), betas)
    ok = torch.allclose(mean, x0, atol=1e-12) and bool((var.abs() < 1e-15).all())
    assert ok, (
        "at t = 0 nothing is left to denoise: the mean must be x0 and the variance 0. alpha_bar_{t-1} at t = 0 is 1 "
        "by convention; alphas_cumprod[t - 1] there is alphas_cumprod[-1], the LAST step's value")
    observe("mean at t = 0", mean)
    observe("variance at t = 0", var)


def test_float32(sub, observe, device, gen):
    """float32 data gives float32 mean and variance (the schedule stays float64)"""
    x0, xt, t, betas = inputs(gen, (5, 2), torch.float32)
    mean, var = run(sub, device, x0, xt, t, betas)
    observe("mean", mean)
    observe("variance", var)

"""Hidden tests of `ddim_step(xt, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None) -> x_prev`.

x0_hat = (xt - sqrt(1 - ab_t) eps) / sqrt(ab_t); sigma = eta sqrt((1 - ab_p)/(1 - ab_t)) sqrt(1 - ab_t/ab_p);
x_prev = sqrt(ab_p) x0_hat + sqrt(1 - ab_p - sigma^2) eps + sigma noise, with ab_{-1} = 1.
"""


import pytest
import torch

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("ddim_step")

T = 40
AB = H.alphas_cumprod(H.linear_betas(T, 1e-3, 0.1))
SHAPES = [(6,), (5, 2), (3, 1, 4, 4)]
STEPS = [(39, 29), (10, 9), (5, -1), (0, -1), (25, 3)]


def inputs(gen, shape, dtype=F64):
    return tuple(torch.randn(shape, generator=gen, dtype=F64).to(dtype) for _ in range(3))  # xt, eps, noise


def run(sub, device, xt, eps, t, t_prev, eta=0.0, noise=None):
    out = sub.ddim_step(xt.to(device), eps.to(device), t, t_prev, AB.to(device), eta=eta,
                        noise=None if noise is None else noise.to(device))
    assert isinstance(out, torch.Tensor) and out.shape == xt.shape, (
        f"ddim_step must return a tensor of xt's shape {tuple(xt.shape)}")
    assert out.dtype == xt.dtype, f"ddim_step must return xt's dtype {xt.dtype}, got {out.dtype}"
    return out.cpu()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("t,t_prev", STEPS, ids=[f"{a}to{b}" for a, b in STEPS])
def test_deterministic(sub, observe, device, gen, shape, t, t_prev):
    """eta = 0 matches the reference, skipping steps and ending at t_prev = -1"""
    xt, eps, _ = inputs(gen, shape)
    out = run(sub, device, xt, eps, t, t_prev)
    observe("x_prev", out)
    err = float((out - H.trusted_ddim_step(xt, eps, t, t_prev, AB)).abs().max())
    observe("max error against the DDIM update", err, rtol=0.0, atol=1e-9)


def test_noise_ignored_without_eta(sub, observe, device, gen):
    """with eta = 0 a given noise changes nothing"""
    xt, eps, noise = inputs(gen, (5, 2))
    a, b = run(sub, device, xt, eps, 20, 10), run(sub, device, xt, eps, 20, 10, noise=noise)
    same = torch.allclose(a, b, rtol=0, atol=1e-12)
    assert same, "with eta = 0, DDIM is deterministic: sigma = 0, so the noise must not change x_prev"
    observe("noise ignored at eta = 0", same)
    observe("x_prev", b)


def test_last_step_returns_x0_hat(sub, observe, device, gen):
    """t_prev = -1 returns the predicted x0 (alpha_bar_{-1} = 1, not alphas_cumprod[-1])"""
    xt, eps, noise = inputs(gen, (6, 2))
    for eta in (0.0, 1.0):
        out = run(sub, device, xt, eps, 7, -1, eta=eta, noise=noise)
        x0_hat = (xt - (1 - AB[7]).sqrt() * eps) / AB[7].sqrt()
        ok = torch.allclose(out, x0_hat, rtol=1e-10, atol=1e-10)
        assert ok, (
            f"with t_prev = -1 (eta = {eta}) the step must return x0_hat = (xt - sqrt(1 - ab_t) eps) / sqrt(ab_t): "
            "alpha_bar_{-1} = 1 (then sigma = 0), while alphas_cumprod[-1] is the LAST step's alpha_bar")
        observe(f"x_prev at t_prev = -1, eta = {eta}", out)


@pytest.mark.parametrize("t", [1, 12, 39])
def test_eta_one_is_ddpm(sub, observe, device, gen, t):
    """eta = 1 on consecutive steps is the DDPM posterior step with x0 = x0_hat"""
    xt, eps, noise = inputs(gen, (6, 2))
    out = run(sub, device, xt, eps, t, t - 1, eta=1.0, noise=noise)
    x0_hat = (xt - (1 - AB[t]).sqrt() * eps) / AB[t].sqrt()
    betas = torch.cat([1 - AB[:1], 1 - AB[1:] / AB[:-1]])
    mean, var = H.trusted_posterior_mean_variance(x0_hat, xt, torch.full((6,), t), betas)
    err = float((out - (mean + var.sqrt() * noise)).abs().max())
    assert err < 1e-8, (
        f"with eta = 1 and t_prev = t - 1 the DDIM step should equal the DDPM posterior step (error {err:.3g}): "
        "sigma^2 = (1 - ab_prev)/(1 - ab_t) (1 - ab_t/ab_prev) is the posterior variance, and the direction term "
        "must use sqrt(1 - ab_prev - sigma^2), not sqrt(1 - ab_prev)")
    observe("max error against the DDPM posterior step", err, rtol=0.0, atol=1e-8)


@pytest.mark.parametrize("eta", [0.3, 1.0])
def test_stochastic_skip(sub, observe, device, gen, eta):
    """eta > 0 with a given noise, skipping steps, matches the reference"""
    xt, eps, noise = inputs(gen, (4, 3))
    out = run(sub, device, xt, eps, 30, 14, eta=eta, noise=noise)
    observe("x_prev", out)


def test_float32(sub, observe, device, gen):
    """float32 inputs give a float32 result"""
    xt, eps, noise = inputs(gen, (5, 2), torch.float32)
    observe("x_prev", run(sub, device, xt, eps, 25, 5, eta=0.5, noise=noise))


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that a step wrong on every input of one kind keeps at most a third; the tests above say which kind.
@pytest.mark.question("ddim_step", weight=54)
def test_whole_contract(sub, observe, device, gen):
    """deterministic steps (to an earlier step and to the clean sample), eta = 1 is DDPM, a stochastic skip"""
    test_deterministic(sub, observe, device, gen, (5, 2), 25, 3)
    test_deterministic(sub, observe, device, gen, (5, 2), 5, -1)
    test_eta_one_is_ddpm(sub, observe, device, gen, 12)
    test_stochastic_skip(sub, observe, device, gen, 0.3)

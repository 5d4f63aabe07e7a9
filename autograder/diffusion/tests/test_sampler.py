"""Hidden tests of `ddpm_sample(model, shape, betas, generator=None)` and
`ddim_sample(model, shape, alphas_cumprod, steps, eta=0.0, generator=None)`.

The tests never assume the order in which a sampler draws its random numbers: a stand-in model
records every input it is called with, so each transition x_t -> x_prev can be checked against a
trusted update (exactly for the deterministic part, in distribution for the noise).
`posterior_mean_variance` and `ddim_step` are pointed at trusted versions.
"""


import pytest
import torch

from autograder.testing import load_helpers, substitute

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("sampler")

DDPM_BETAS = torch.linspace(0.05, 0.4, 6, dtype=F64)
DDIM_T = 20
DDIM_AB = H.alphas_cumprod(H.linear_betas(DDIM_T, 0.01, 0.3))


def device_gen(device, seed):
    """A generator for the code under test, on its own stream (gen, seeded with seed, makes the inputs)."""
    return torch.Generator(device=device).manual_seed(seed + 7919)


def ddpm(sub, model, shape, device, generator, betas=DDPM_BETAS):
    with substitute(sub, **H.TRUSTED):
        out = sub.ddpm_sample(model, shape, betas.to(device), generator=generator)
    return checked(out, shape, "ddpm_sample")


def ddim(sub, model, shape, device, generator, steps, eta=0.0, ab=DDIM_AB):
    with substitute(sub, **H.TRUSTED):
        out = sub.ddim_sample(model, shape, ab.to(device), steps, eta=eta, generator=generator)
    return checked(out, shape, "ddim_sample")


def checked(out, shape, name):
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(shape), (
        f"{name} must return a tensor of the requested shape {tuple(shape)}")
    assert out.dtype == torch.float32, f"{name} must return float32 samples (start from torch.randn), got {out.dtype}"
    return out.cpu()


def timesteps(model, B):
    ts = []
    for _, t, _ in model.calls:
        assert bool((t == t[0]).all()), "every sample of the batch must be at the same step t in one model call"
        ts.append(int(t[0]))
    return ts


def start_noise_stats(observe, model):
    x = model.calls[0][0].double()
    observe("starting noise mean", float(x.mean()), rtol=0.0, atol=0.06)
    observe("starting noise std", float(x.std()), rtol=0.0, atol=0.06)


# --------------------------------------------------------------------------- DDPM


def test_ddpm_visits_every_step(sub, observe, device, seed):
    """DDPM calls the model at t = T-1, ..., 0, once each"""
    model = H.RecordingModel(len(DDPM_BETAS))
    ddpm(sub, model, (5, 2), device, device_gen(device, seed))
    observe("steps visited", timesteps(model, 5))


@pytest.mark.parametrize("shape", [(3000, 2), (500, 1, 2, 3)], ids=["points", "images"])
def test_ddpm_transitions(sub, observe, device, seed, shape):
    """each DDPM step draws x_{t-1} = posterior mean + sqrt(posterior variance) z, z ~ N(0, I); none at t = 0"""
    model = H.RecordingModel(len(DDPM_BETAS))
    out = ddpm(sub, model, shape, device, device_gen(device, seed))
    assert len(model.calls) == len(DDPM_BETAS), f"DDPM with T = {len(DDPM_BETAS)} must call the model T times"
    start_noise_stats(observe, model)
    ab = H.alphas_cumprod(DDPM_BETAS)
    nexts = [c[0] for c in model.calls[1:]] + [out]
    zs = {}
    for (x, t, eps), x_next in zip(model.calls, nexts):
        step = int(t[0])
        x0_hat = (x.double() - (1 - ab[step]).sqrt() * eps.double()) / ab[step].sqrt()
        mean, var = H.trusted_posterior_mean_variance(x0_hat, x.double(), t, DDPM_BETAS)
        if step == 0:
            err = float((x_next.double() - mean).abs().max())
            assert err < 1e-4, (
                f"the last step (t = 0) must return the posterior mean without noise; it is off by {err:.3g}")
            observe("last step adds no noise", err < 1e-4)
        else:
            zs[step] = (x_next.double() - mean) / var.sqrt()
            # The noise is independent of x_t: a wrong deterministic part (x0_hat from alpha_t instead of
            # alpha_bar_t, a wrong mean coefficient) leaves a part of x_t in it, on every input.
            drift = max(abs(H.corr(zs[step], x)), abs(H.corr(zs[step], eps)))
            assert drift < 0.1, (
                f"at t = {step}, x_(t-1) - posterior mean is correlated with x_t (correlation {drift:.2f}): the "
                "mean of the step is wrong. Predict x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t) "
                "with the cumulative alpha_bar_t, then take the posterior mean of (x0_hat, x_t)")
    for step, z in sorted(zs.items()):
        std = float(z.std())
        assert 0.85 < std < 1.15 and abs(float(z.mean())) < 0.15, (
            f"at t = {step}, (x_(t-1) - posterior mean) / sqrt(posterior variance) has mean {float(z.mean()):.3f} and "
            f"std {std:.3f}, not 0 and 1: use the posterior variance beta_t (1 - ab_(t-1)) / (1 - ab_t) (not beta_t), "
            "its square root as the scale, and fresh N(0, I) noise at every step")
        observe(f"std of the noise added at t = {step}", std, rtol=0.0, atol=0.1)
    observe("noise of successive steps uncorrelated",
            all(abs(H.corr(zs[s], zs[s + 1])) < 0.1 for s in range(1, len(DDPM_BETAS) - 1)))


def test_ddpm_generator(sub, observe, device, seed):
    """DDPM draws only from the generator given"""
    observe("randomness from the generator only", _generator_only(lambda g: ddpm(
        sub, H.RecordingModel(len(DDPM_BETAS)), (8, 2), device, g), device, seed))


# --------------------------------------------------------------------------- DDIM


@pytest.mark.parametrize("T,steps", [(20, 2), (20, 3), (20, 7), (20, 20), (1000, 10), (100, 8)])
def test_ddim_timesteps(sub, observe, device, seed, T, steps):
    """DDIM visits tau_i = i (T - 1) // (steps - 1), from T - 1 down to 0"""
    model = H.RecordingModel(T)
    ab = H.alphas_cumprod(H.linear_betas(T))
    ddim(sub, model, (4, 2), device, device_gen(device, seed), steps, ab=ab)
    visited = timesteps(model, 4)
    expected = [i * (T - 1) // (steps - 1) for i in reversed(range(steps))]
    assert visited == expected, (
        f"with T = {T} and steps = {steps} DDIM should call the model at t = {expected}, called it at {visited}")
    observe("steps visited", visited)


@pytest.mark.parametrize("steps", [4, 20])
@pytest.mark.parametrize("shape", [(2000, 2), (300, 1, 2, 2)], ids=["points", "images"])
def test_ddim_deterministic_transitions(sub, observe, device, seed, shape, steps):
    """with eta = 0 every transition is the DDIM update, the last one to t_prev = -1"""
    model = H.RecordingModel(DDIM_T)
    out = ddim(sub, model, shape, device, device_gen(device, seed), steps)
    start_noise_stats(observe, model)
    visited = timesteps(model, shape[0])
    nexts = [c[0] for c in model.calls[1:]] + [out]
    prevs = visited[1:] + [-1]
    worst = 0.0
    for (x, t, eps), x_next, t_prev in zip(model.calls, nexts, prevs):
        expected = H.trusted_ddim_step(x.double(), eps.double(), int(t[0]), t_prev, DDIM_AB)
        worst = max(worst, float((x_next.double() - expected).abs().max() / (1 + expected.abs().max())))
    assert worst < 1e-5, (
        f"a DDIM transition differs from ddim_step(x, eps, t, t_prev) by {worst:.3g}: step from each visited t to "
        "the next one visited, and from the smallest to t_prev = -1")
    observe("max relative transition error", worst, rtol=0.0, atol=1e-5)


@pytest.mark.parametrize("eta", [0.5, 1.0])
def test_ddim_stochastic_transitions(sub, observe, device, seed, eta):
    """with eta > 0 every transition adds sigma z with fresh z ~ N(0, I)"""
    model = H.RecordingModel(DDIM_T)
    out = ddim(sub, model, (3000, 2), device, device_gen(device, seed), 5, eta=eta)
    visited = timesteps(model, 3000)
    nexts = [c[0] for c in model.calls[1:]] + [out]
    prevs = visited[1:] + [-1]
    zs = []
    for (x, t, eps), x_next, t_prev in zip(model.calls, nexts, prevs):
        step = int(t[0])
        det = H.trusted_ddim_step(x.double(), eps.double(), step, t_prev, DDIM_AB, eta=eta,
                                  noise=torch.zeros_like(x, dtype=F64))
        sigma = float(H.trusted_ddim_step(torch.zeros(1, dtype=F64), torch.zeros(1, dtype=F64), step, t_prev,
                                          DDIM_AB, eta=eta, noise=torch.ones(1, dtype=F64)))
        if t_prev >= 0:
            zs.append((x_next.double() - det) / sigma)
    stds = [float(z.std()) for z in zs]
    ok = all(0.9 < s < 1.1 for s in stds) and all(abs(float(z.mean())) < 0.1 for z in zs)
    assert ok, (
        f"(x_prev - deterministic part) / sigma should be N(0, 1) noise at every step; its stds are "
        f"{[round(s, 3) for s in stds]}: pass eta and fresh noise from the generator to ddim_step")
    observe("noise of every step is N(0, 1)", ok)
    observe("noise of successive steps uncorrelated", all(abs(H.corr(a, b)) < 0.1 for a, b in zip(zs, zs[1:])))


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_generator(sub, observe, device, seed, eta):
    """DDIM draws only from the generator given"""
    observe("randomness from the generator only", _generator_only(lambda g: ddim(
        sub, H.RecordingModel(DDIM_T), (8, 2), device, g, 5, eta=eta), device, seed))


def test_no_gradients(sub, observe, device, gen, seed):
    """sampling builds no autograd graph"""
    lin = torch.nn.Linear(2, 2).to(device)
    model = lambda x, t: lin(x)  # noqa: E731
    outs = [ddpm(sub, model, (4, 2), device, device_gen(device, seed)),
            ddim(sub, model, (4, 2), device, device_gen(device, seed), 4)]
    ok = not any(o.requires_grad for o in outs)
    assert ok, "the samples require grad: decorate the samplers with @torch.no_grad()"
    observe("samples need no grad", ok)


def _generator_only(sample, device, seed):
    state = torch.get_rng_state()
    cuda_state = torch.cuda.get_rng_state() if device.type == "cuda" else None
    a = sample(device_gen(device, seed))
    untouched = torch.equal(state, torch.get_rng_state()) and (
        cuda_state is None or torch.equal(cuda_state, torch.cuda.get_rng_state()))
    b = sample(device_gen(device, seed))
    c = sample(device_gen(device, seed + 1))
    assert untouched, (
        "the sampler drew from the global random generator although a generator was given: pass generator= to "
        "every torch.randn (torch.randn_like takes none)")
    assert torch.equal(a, b), "two runs with generators seeded alike gave different samples"
    assert not torch.equal(a, c), "generators seeded differently gave the same samples: draw the noise from it"
    return True


# Both samplers are one contract (the notebook samples with either): this test runs every check above on one
# input each, and carries two thirds of the question's points, so that a sampler wrong on every input (of either
# sampler) keeps at most a third; the tests above say which part is wrong, and weigh a bug by how much it breaks.
@pytest.mark.question("sampler", weight=50)
def test_whole_contract(sub, observe, device, seed):
    """both samplers, every check: DDPM steps and noise, DDIM timesteps and transitions, generators only"""
    test_ddpm_visits_every_step(sub, observe, device, seed)
    test_ddpm_transitions(sub, observe, device, seed, (3000, 2))
    test_ddpm_generator(sub, observe, device, seed)
    for T, steps in [(20, 7), (1000, 10)]:
        test_ddim_timesteps(sub, observe, device, seed, T, steps)
    test_ddim_deterministic_transitions(sub, observe, device, seed, (2000, 2), 4)
    test_ddim_stochastic_transitions(sub, observe, device, seed, 1.0)
    test_ddim_generator(sub, observe, device, seed, 0.5)

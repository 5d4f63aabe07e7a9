"""The diffusion reference solution against closed forms and independent oracles.

Published constants of the DDPM linear and improved-DDPM cosine schedules, the forward process
iterated step by step against its closed form (in distribution), the posterior against Bayes' rule
in precision form, DDIM with eta = 1 on consecutive steps against the DDPM posterior step, and both
samplers driven by the exact noise predictor of a Gaussian data distribution (its samples must have
the data's mean and variance). These are the facts the hidden tests inherit from the reference.
"""

import math

import pytest
import torch

from autograder.notebook import reference_module

ref = reference_module("diffusion")

F64 = torch.float64


@pytest.fixture(autouse=True)
def one_thread():
    """Thousands of tiny sampling steps: a second thread only adds synchronisation (and on a busy machine a lot)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def linear_betas(T=1000):
    return torch.linspace(1e-4, 0.02, T, dtype=F64)


def cumprod(betas):
    return torch.cumprod(1 - betas, dim=0)


# ------------------------------------------------------------------------------------------ schedules


def test_linear_schedule_constants():
    ab = cumprod(linear_betas())
    assert ab[0].item() == pytest.approx(0.9999, abs=1e-12)
    assert ab[499].item() == pytest.approx(0.078587, abs=5e-7)
    assert ab[999].item() == pytest.approx(4.0358e-5, rel=1e-4)


def test_cosine_schedule_constants():
    betas = ref.cosine_beta_schedule(1000)
    assert betas.dtype == F64 and betas.shape == (1000,)
    ab = cumprod(betas)
    assert ab[499].item() == pytest.approx(0.493844, abs=5e-7)
    assert betas[-1].item() == 0.999  # f(T) = 0: clipped
    assert float(betas.max()) == 0.999 and float(betas.min()) > 0
    f = lambda t: math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    assert betas[0].item() == pytest.approx(1 - f(1) / f(0), rel=1e-12)
    torch.testing.assert_close(ab[:-1], torch.tensor([f(t + 1) / f(0) for t in range(999)], dtype=F64),
                               rtol=1e-10, atol=1e-13)


def test_cosine_schedule_arguments():
    assert float(ref.cosine_beta_schedule(30, max_beta=0.2).max()) == 0.2
    no_offset = ref.cosine_beta_schedule(30, s=0.0)
    assert no_offset[0].item() == pytest.approx(1 - math.cos(math.pi / 60) ** 2, rel=1e-12)


# ------------------------------------------------------------------------------------------ forward process


def test_iterated_forward_process_matches_closed_form():
    """x_t built by T Markov steps sqrt(1 - beta) x + sqrt(beta) z has q_sample's distribution."""
    T, N = 100, 100_000
    betas = torch.linspace(1e-3, 0.1, T, dtype=F64)
    ab = cumprod(betas)
    g = gen(1)
    x0 = torch.full((N, 1), 1.5, dtype=F64)
    x = x0.clone()
    for t in range(T):
        x = (1 - betas[t]).sqrt() * x + betas[t].sqrt() * torch.randn(N, 1, generator=g, dtype=F64)
        if t in (0, 20, 99):
            closed = ref.q_sample(x0, torch.full((N,), t), torch.randn(N, 1, generator=g, dtype=F64), ab)
            for a, b in [(x.mean(), closed.mean()), (x.var(), closed.var())]:
                assert abs(float(a - b)) < 0.015, (t, float(a), float(b))
            assert float(closed.mean()) == pytest.approx(1.5 * ab[t].sqrt().item(), abs=0.01)
            assert float(closed.var()) == pytest.approx(1 - ab[t].item(), abs=0.01)


def test_q_sample_any_rank_and_dtype():
    ab = cumprod(linear_betas(50))
    x0 = torch.randn(3, 1, 4, 4, generator=gen(2))
    noise = torch.randn(3, 1, 4, 4, generator=gen(3))
    t = torch.tensor([0, 10, 49])
    out = ref.q_sample(x0, t, noise, ab)
    assert out.dtype == torch.float32 and out.shape == x0.shape
    for i in range(3):
        a = ab[t[i]].item()
        expected = math.sqrt(a) * x0[i].double() + math.sqrt(1 - a) * noise[i].double()
        torch.testing.assert_close(out[i], expected.float())


# ------------------------------------------------------------------------------------------ posterior


def test_posterior_is_bayes():
    """precision form: 1/var = alpha_t / beta_t + 1/(1 - ab_{t-1}); mean = var (sqrt(alpha_t)/beta_t x_t + ...)."""
    T = 40
    betas = torch.linspace(1e-3, 0.2, T, dtype=F64)
    ab = cumprod(betas)
    x0, xt = torch.randn(T, 3, generator=gen(4), dtype=F64), torch.randn(T, 3, generator=gen(5), dtype=F64)
    t = torch.arange(T)
    mean, var = ref.posterior_mean_variance(x0, xt, t, betas)
    assert var.shape == (T, 1)
    torch.testing.assert_close(mean[0], x0[0], rtol=0, atol=1e-14)
    assert var[0].item() == 0.0
    for s in range(1, T):
        b, ap = betas[s].item(), ab[s - 1].item()
        precision = (1 - b) / b + 1 / (1 - ap)
        expected = (math.sqrt(1 - b) / b * xt[s] + math.sqrt(ap) / (1 - ap) * x0[s]) / precision
        torch.testing.assert_close(mean[s], expected, rtol=1e-12, atol=1e-12)
        assert var[s].item() == pytest.approx(1 / precision, rel=1e-12)


def test_posterior_by_sampling():
    """Draw x_{t-1} ~ q(. | x0), x_t ~ q(. | x_{t-1}); given x_t, x_{t-1} is Gaussian with the posterior's moments."""
    betas = torch.linspace(0.05, 0.3, 5, dtype=F64)
    ab = cumprod(betas)
    t, N, x0 = 3, 400_000, 0.7
    g = gen(6)
    prev = math.sqrt(ab[t - 1]) * x0 + math.sqrt(1 - ab[t - 1]) * torch.randn(N, generator=g, dtype=F64)
    xt = (1 - betas[t]).sqrt() * prev + betas[t].sqrt() * torch.randn(N, generator=g, dtype=F64)
    mean, var = ref.posterior_mean_variance(torch.full((N, 1), x0, dtype=F64), xt[:, None], torch.full((N,), t), betas)
    resid = prev - mean[:, 0]
    assert abs(float(resid.mean())) < 3e-3
    assert float(resid.var()) == pytest.approx(var[0].item(), rel=0.01)
    assert abs(float(torch.corrcoef(torch.stack([resid, xt]))[0, 1])) < 0.01  # residual independent of x_t


# ------------------------------------------------------------------------------------------ DDIM


def test_ddim_eta_one_is_the_ddpm_posterior_step():
    betas = linear_betas(100)
    ab = cumprod(betas)
    for t in (1, 37, 99):
        xt, eps, z = (torch.randn(6, 2, generator=gen(t + k), dtype=F64) for k in range(3))
        out = ref.ddim_step(xt, eps, t, t - 1, ab, eta=1.0, noise=z)
        x0_hat = (xt - (1 - ab[t]).sqrt() * eps) / ab[t].sqrt()
        mean, var = ref.posterior_mean_variance(x0_hat, xt, torch.full((6,), t), betas)
        torch.testing.assert_close(out, mean + var.sqrt() * z, rtol=1e-10, atol=1e-10)


def test_ddim_eta_zero_is_deterministic_and_ends_at_x0_hat():
    ab = cumprod(linear_betas(100))
    xt, eps = torch.randn(5, 3, generator=gen(7), dtype=F64), torch.randn(5, 3, generator=gen(8), dtype=F64)
    a = ref.ddim_step(xt, eps, 60, 30, ab)
    b = ref.ddim_step(xt, eps, 60, 30, ab, noise=torch.randn(5, 3, generator=gen(9), dtype=F64))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    x0_hat = (xt - (1 - ab[10]).sqrt() * eps) / ab[10].sqrt()
    torch.testing.assert_close(ref.ddim_step(xt, eps, 10, -1, ab), x0_hat, rtol=1e-12, atol=1e-12)


def test_ddim_with_the_true_noise_is_exact():
    """If eps is the noise that made x_t from x0, the deterministic step lands exactly on q_sample at t_prev."""
    ab = cumprod(linear_betas(100))
    x0, eps = torch.randn(4, 2, generator=gen(10), dtype=F64), torch.randn(4, 2, generator=gen(11), dtype=F64)
    xt = ref.q_sample(x0, torch.full((4,), 80), eps, ab)
    torch.testing.assert_close(ref.ddim_step(xt, eps, 80, 20, ab), ref.q_sample(x0, torch.full((4,), 20), eps, ab))


# ------------------------------------------------------------------------------------------ samplers


MU, SD = 1.5, 0.5  # data ~ N(MU, SD^2): the exact noise predictor is known in closed form


def gaussian_eps(alphas_cumprod):
    """E[eps | x_t] for x0 ~ N(MU, SD^2): sqrt(1 - ab) (x_t - sqrt(ab) MU) / (ab SD^2 + 1 - ab)."""
    def model(x, t):
        a = alphas_cumprod[t].view(-1, *([1] * (x.dim() - 1))).to(x.dtype)
        return (1 - a).sqrt() * (x - a.sqrt() * MU) / (a * SD**2 + 1 - a)
    return model


@pytest.mark.parametrize("which", ["ddpm", "ddim_100", "ddim_eta1_all", "ddim_all"])
def test_samplers_with_the_exact_model_draw_the_data(which):
    betas = linear_betas(1000)
    ab = cumprod(betas)
    model = gaussian_eps(ab)
    g = gen(12)
    shape = (5_000, 1)
    if which == "ddpm":
        x = ref.ddpm_sample(model, shape, betas, generator=g)
    elif which == "ddim_100":  # few deterministic steps: a small discretisation error (std 0.487)
        x = ref.ddim_sample(model, shape, ab, 100, generator=g)
    elif which == "ddim_eta1_all":
        x = ref.ddim_sample(model, shape, ab, 1000, eta=1.0, generator=g)
    else:
        x = ref.ddim_sample(model, shape, ab, 1000, generator=g)
    assert x.dtype == torch.float32
    assert float(x.mean()) == pytest.approx(MU, abs=0.03)
    assert float(x.std()) == pytest.approx(SD, abs=0.03 if which == "ddim_100" else 0.02)


def test_samplers_visit_the_documented_steps():
    calls = []

    def model(x, t):
        calls.append(int(t[0]))
        return torch.zeros_like(x)

    ref.ddim_sample(model, (2, 1), cumprod(linear_betas(1000)), 10)
    assert calls == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]
    calls.clear()
    ref.ddpm_sample(model, (2, 1), torch.linspace(0.1, 0.2, 5, dtype=F64))
    assert calls == [4, 3, 2, 1, 0]


def test_samplers_take_randomness_from_the_generator_only():
    ab = cumprod(linear_betas(50))
    model = gaussian_eps(ab)
    state = torch.get_rng_state()
    a = ref.ddim_sample(model, (8, 2), ab, 10, eta=0.5, generator=gen(13))
    b = ref.ddim_sample(model, (8, 2), ab, 10, eta=0.5, generator=gen(13))
    c = ref.ddpm_sample(model, (8, 2), 1 - ab / torch.cat([ab.new_ones(1), ab[:-1]]), generator=gen(14))
    assert torch.equal(state, torch.get_rng_state())
    assert torch.equal(a, b) and c.shape == (8, 2)


# ------------------------------------------------------------------------------------------ loss and guidance


def test_loss_of_exact_and_zero_models():
    ab = cumprod(linear_betas(100))
    x0 = torch.randn(8192, 2, generator=gen(15), dtype=F64)

    class Oracle:
        def __call__(self, xt, t):
            a = ab[t].view(-1, 1)
            return (xt - a.sqrt() * x0) / (1 - a).sqrt()

    assert float(ref.diffusion_loss(Oracle(), x0, ab, generator=gen(16))) < 1e-20
    assert float(ref.diffusion_loss(lambda xt, t: torch.zeros_like(xt), x0, ab, generator=gen(17))) == pytest.approx(
        1.0, abs=0.05)


def test_guidance_reduces_to_the_two_predictions():
    def model(x, t, c):
        return torch.tanh(x * (c.view(-1, 1) + 1)) + 0.01 * t.view(-1, 1)

    x = torch.randn(6, 2, generator=gen(18), dtype=F64)
    t, c, null = torch.arange(6), torch.tensor([0, 1, 2, 3, 4, 0]), torch.full((6,), 9)
    torch.testing.assert_close(ref.guided_eps(model, x, t, c, null, 0.0), model(x, t, null))
    torch.testing.assert_close(ref.guided_eps(model, x, t, c, null, 1.0), model(x, t, c))
    e3 = ref.guided_eps(model, x, t, c, null, 3.0)
    torch.testing.assert_close(e3, model(x, t, null) + 3 * (model(x, t, c) - model(x, t, null)))


# ------------------------------------------------------------------------------------------ training


def test_train_denoiser_learns_a_gaussian():
    """A linear-in-x denoiser trained on N(MU, SD^2) approaches the exact noise predictor at a middle step."""
    T = 50
    ab = cumprod(torch.linspace(1e-3, 0.2, T, dtype=F64))

    class PerStepAffine(torch.nn.Module):  # eps = w_t x + b_t: the exact predictor has this form
        def __init__(self):
            super().__init__()
            self.w, self.b = torch.nn.Parameter(torch.zeros(T)), torch.nn.Parameter(torch.zeros(T))

        def forward(self, x, t):
            return self.w[t].view(-1, 1) * x + self.b[t].view(-1, 1)

    data = MU + SD * torch.randn(4096, 1, generator=gen(19))
    model = PerStepAffine()
    losses = ref.train_denoiser(model, data, ab, 800, batch_size=256, lr=3e-2, generator=gen(20))
    assert len(losses) == 800 and all(type(v) is float for v in losses)
    exact = gaussian_eps(ab)
    xs, t = torch.linspace(-1, 3, 9)[:, None], torch.full((9,), 25)
    torch.testing.assert_close(model(xs, t), exact(xs, t).float(), rtol=0.1, atol=0.05)


def test_the_integration_threshold_separates_learning_from_noise():
    """The hidden `train` integration test's Chamfer threshold, with its own data, model and schedule:
    the reference clears it by a wide margin on every seed tried (a correct loop must never fail it by
    chance), while standard normal noise (nothing learned) and one moon alone (a lost mode) fail it."""
    from pathlib import Path

    from autograder.collect import load_test_module
    from shared.data import moons

    hidden = load_test_module(Path(__file__).parents[1] / "autograder" / "diffusion" / "tests" / "test_train.py",
                              "diffusion_hidden_train")
    H = hidden.H
    x, _ = moons(4000, noise=0.05, seed=0)
    x = (x - x.mean(0)) / x.std(0)
    train, held_out = x[:3000], x[3000:]
    ab = H.alphas_cumprod(H.linear_betas(hidden.T, 1e-4, 0.2))
    distances = []
    for seed in range(6):
        torch.manual_seed(0)
        model = H.ToyDenoiser(hidden.T)
        g = gen(seed + 7919)
        for n, lr in hidden.STAGES:
            ref.train_denoiser(model, train, ab, n, batch_size=hidden.BATCH, lr=lr, generator=g)
        model.eval()
        samples = ref.ddim_sample(model, (1000, 2), ab, hidden.SAMPLE_STEPS, generator=g)
        distances.append(H.chamfer(samples, held_out))
    assert max(distances) < hidden.THRESHOLD - 0.03, distances
    noise = torch.randn(1000, 2, generator=gen(1), dtype=F64)
    assert H.chamfer(noise, held_out) > hidden.THRESHOLD + 0.04
    one_moon = train[train[:, 0] < 0][:1000]
    assert H.chamfer(one_moon, held_out) > hidden.THRESHOLD + 0.1

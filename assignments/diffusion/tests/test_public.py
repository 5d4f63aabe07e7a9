"""Public tests of the diffusion assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more shapes
and dtypes, the ends of the schedule, the DDPM posterior, the statistics of every random draw, a
training run on two moons.

Questions build on each other, but each is graded on its own: while a question's hidden tests run,
the names it calls from earlier questions are pointed at trusted versions, so a mistake in, say,
q_sample costs points only on q_sample. Call earlier questions BY NAME (q_sample in the loss,
posterior_mean_variance in ddpm_sample, ddim_step in ddim_sample, diffusion_loss in train_denoiser).
Random draws are never compared number by number: your code may draw in any order.
"""

import pytest
import torch

from autograder.testing import substitute

F64 = torch.float64


def linear_alphas_cumprod(T, start=1e-3, end=0.1):
    return torch.cumprod(1 - torch.linspace(start, end, T, dtype=F64), dim=0)


# Toy stand-ins with the signatures of earlier questions (deliberately NOT their answers): the public tests
# of a question that calls them run with these, so that they test that question alone.


def toy_q_sample(x0, t, noise, alphas_cumprod):
    return 0.5 * x0 + noise


def toy_posterior(x0, xt, t, betas):
    return 0.5 * (x0 + xt), torch.full((x0.shape[0],) + (1,) * (x0.dim() - 1), 0.01, dtype=x0.dtype, device=x0.device)


def toy_ddim_step(xt, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    return 0.9 * xt - 0.1 * eps if noise is None else 0.9 * xt - 0.1 * eps + 0.01 * noise


class RecordingModel(torch.nn.Module):
    """A toy noise predictor, eps = 0.5 tanh(x), that records the steps t it is called with."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def forward(self, x, t):
        assert isinstance(t, torch.Tensor) and t.dtype == torch.long and t.shape == (x.shape[0],), (
            "the model must be called as model(x, t) with t a (B,) long tensor")
        self.steps.append(int(t[0]))
        return 0.5 * torch.tanh(x)


# --------------------------------------------------------------------------- cosine_schedule


@pytest.mark.question("cosine_schedule")
@pytest.mark.parametrize("T", [10, 1000])
def test_cosine_schedule(sub, observe, T):
    """float64 betas of shape (T,) that match the reference"""
    betas = sub.cosine_beta_schedule(T)
    assert isinstance(betas, torch.Tensor) and betas.shape == (T,), f"the schedule must be a tensor of shape ({T},)"
    observe("betas", betas.cpu())


@pytest.mark.question("cosine_schedule")
def test_cosine_schedule_arguments(sub, observe):
    """uses the offset s and the clipping max_beta given"""
    observe("betas with s=0.1, max_beta=0.3", sub.cosine_beta_schedule(20, s=0.1, max_beta=0.3).cpu())


# --------------------------------------------------------------------------- q_sample


@pytest.mark.question("q_sample")
@pytest.mark.parametrize("shape", [(5, 2), (3, 1, 4, 4)], ids=["points", "images"])
def test_q_sample(sub, observe, device, gen, shape):
    """matches the reference for points and images"""
    x0 = torch.randn(shape, generator=gen)
    noise = torch.randn(shape, generator=gen)
    t = torch.randint(0, 50, (shape[0],), generator=gen)
    out = sub.q_sample(x0.to(device), t.to(device), noise.to(device), linear_alphas_cumprod(50).to(device))
    assert out.shape == x0.shape and out.dtype == x0.dtype, "q_sample must return a tensor of x0's shape and dtype"
    observe("x_t", out.cpu())


# --------------------------------------------------------------------------- posterior


@pytest.mark.question("posterior")
def test_posterior(sub, observe, device, gen):
    """mean and variance match the reference, t = 0 included"""
    x0, xt = torch.randn(4, 2, generator=gen, dtype=F64), torch.randn(4, 2, generator=gen, dtype=F64)
    t = torch.tensor([0, 1, 17, 29])
    betas = torch.linspace(1e-3, 0.2, 30, dtype=F64)
    mean, var = sub.posterior_mean_variance(x0.to(device), xt.to(device), t.to(device), betas.to(device))
    assert tuple(var.shape) == (4, 1), f"the variance must have shape (B, 1) for (B, 2) data, got {tuple(var.shape)}"
    observe("mean", mean.cpu())
    observe("variance", var.cpu())


# --------------------------------------------------------------------------- ddim_step


@pytest.mark.question("ddim_step")
@pytest.mark.parametrize("t,t_prev", [(39, 29), (5, -1)], ids=["39to29", "5to-1"])
def test_ddim_step(sub, observe, device, gen, t, t_prev):
    """eta = 0 matches the reference, also for the last step to t_prev = -1"""
    xt, eps = torch.randn(4, 2, generator=gen, dtype=F64), torch.randn(4, 2, generator=gen, dtype=F64)
    out = sub.ddim_step(xt.to(device), eps.to(device), t, t_prev, linear_alphas_cumprod(40).to(device))
    observe("x_prev", out.cpu())


@pytest.mark.question("ddim_step")
def test_ddim_step_eta(sub, observe, device, gen):
    """eta = 1 with a given noise matches the reference"""
    xt, eps, z = (torch.randn(4, 2, generator=gen, dtype=F64) for _ in range(3))
    out = sub.ddim_step(xt.to(device), eps.to(device), 20, 10, linear_alphas_cumprod(40).to(device), eta=1.0,
                        noise=z.to(device))
    observe("x_prev", out.cpu())


# --------------------------------------------------------------------------- loss


@pytest.mark.question("loss")
def test_loss_generator(sub, observe, device, gen, seed):
    """a 0-dim differentiable loss, drawn only from the generator given"""
    w = torch.nn.Parameter(torch.tensor(0.5, device=device))
    x0 = torch.randn(16, 2, generator=gen).to(device)
    state = torch.get_rng_state()
    with substitute(sub, q_sample=toy_q_sample):
        losses = [sub.diffusion_loss(lambda xt, t: w * xt, x0, linear_alphas_cumprod(10).to(device),
                                     generator=torch.Generator(device=device).manual_seed(seed + 7919))
                  for _ in range(2)]
    assert losses[0].dim() == 0, "the loss must be a 0-dim tensor (the mean over every element)"
    assert torch.equal(state, torch.get_rng_state()), (
        "diffusion_loss drew from the global RNG although a generator was given: pass generator= to every draw")
    assert float(losses[0].detach()) == float(losses[1].detach()), (
        "two calls with generators seeded alike must give the same loss")
    losses[0].backward()
    assert w.grad is not None, "the loss must be differentiable with respect to the model's parameters"
    observe("reproducible and differentiable", True)


# --------------------------------------------------------------------------- sampler


@pytest.mark.question("sampler")
def test_ddpm_steps(sub, observe, device, seed):
    """DDPM calls the model at every step from T - 1 down to 0 and returns the requested shape"""
    model = RecordingModel()
    with substitute(sub, posterior_mean_variance=toy_posterior):
        out = sub.ddpm_sample(model, (4, 2), torch.linspace(0.05, 0.3, 6, dtype=F64).to(device),
                              generator=torch.Generator(device=device).manual_seed(seed + 7919))
    assert tuple(out.shape) == (4, 2) and out.dtype == torch.float32, "ddpm_sample must return float32 (B, ...) samples"
    observe("steps visited", model.steps)


@pytest.mark.question("sampler")
@pytest.mark.parametrize("steps", [2, 5])
def test_ddim_steps(sub, observe, device, seed, steps):
    """DDIM visits tau_i = i (T - 1) // (steps - 1) from T - 1 down to 0"""
    model = RecordingModel()
    with substitute(sub, ddim_step=toy_ddim_step):
        out = sub.ddim_sample(model, (4, 2), linear_alphas_cumprod(30).to(device), steps,
                              generator=torch.Generator(device=device).manual_seed(seed + 7919))
    assert tuple(out.shape) == (4, 2) and out.dtype == torch.float32, "ddim_sample must return float32 (B, ...) samples"
    observe("steps visited", model.steps)


# --------------------------------------------------------------------------- guidance


class TwoClassModel(torch.nn.Module):
    """eps(x, t, c) = c x + 0.01 t (a toy conditional model; label 2 is the null label)."""

    def forward(self, x, t, c):
        return c.view(-1, 1).to(x.dtype) * x + 0.01 * t.view(-1, 1).to(x.dtype)


@pytest.mark.question("guidance")
@pytest.mark.parametrize("scale", [0.0, 1.0, 4.0])
def test_guidance(sub, observe, device, gen, scale):
    """matches the reference for guidance scales 0, 1 and 4"""
    x = torch.randn(6, 2, generator=gen, dtype=F64)
    t = torch.randint(0, 100, (6,), generator=gen)
    cond = torch.randint(0, 2, (6,), generator=gen)
    out = sub.guided_eps(TwoClassModel(), x.to(device), t.to(device), cond.to(device),
                         torch.full((6,), 2).to(device), scale)
    observe("guided eps", out.cpu())


# --------------------------------------------------------------------------- train


def toy_loss(model, x0, alphas_cumprod, generator=None):
    """A deterministic toy loss with diffusion_loss's signature (not diffusion_loss)."""
    return ((model(x0, torch.zeros(x0.shape[0], dtype=torch.long, device=x0.device)) - 1) ** 2).mean()


class Affine(torch.nn.Module):
    """eps(x, t) = W x + b, t ignored."""

    def __init__(self, gen):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)
        with torch.no_grad():
            self.lin.weight.copy_(torch.randn(2, 2, generator=gen))
            self.lin.bias.copy_(torch.randn(2, generator=gen))

    def forward(self, x, t):
        return self.lin(x)


@pytest.mark.question("train")
def test_train_steps(sub, observe, device, gen, seed):
    """four Adam steps on a toy loss match the reference"""
    model = Affine(gen).to(device)
    data = torch.randn(1, 2, generator=gen).expand(20, 2).contiguous().to(device)  # all rows alike
    with substitute(sub, diffusion_loss=toy_loss):
        losses = sub.train_denoiser(model, data, linear_alphas_cumprod(10).to(device), 4, batch_size=5, lr=0.1,
                                    generator=torch.Generator(device=device).manual_seed(seed + 7919))
    assert isinstance(losses, list) and all(type(v) is float for v in losses), "return a list of Python floats"
    observe("losses", losses, rtol=1e-5)
    observe("weight after training", model.lin.weight.detach().cpu())

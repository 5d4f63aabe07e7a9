"""Hidden tests of `diffusion_loss(model, x0, alphas_cumprod, generator=None) -> loss`.

t ~ U{0..T-1} per sample, noise ~ N(0, I), xt = q_sample(x0, t, noise, ab), loss = mean((noise - model(xt, t))^2).
The draws are random, and the order in which a submission draws them is its own business: the tests
recover the noise from what the model was called with, check statistics over large batches, and use
models whose loss is known whatever was drawn. `q_sample` is pointed at a trusted version.
"""


import pytest
import torch

from autograder.testing import load_helpers, substitute

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("loss")

T = 10
AB = H.alphas_cumprod(H.linear_betas(T, 0.02, 0.3))


class OracleModel(torch.nn.Module):
    """Knows x0: returns the exact noise that produced xt, (xt - sqrt(ab_t) x0) / sqrt(1 - ab_t)."""

    def __init__(self, x0, ab):
        super().__init__()
        self.x0, self.ab = x0, ab

    def forward(self, xt, t):
        a = self.ab.to(xt.device)[t].view(-1, *([1] * (xt.dim() - 1)))
        return (xt - a.sqrt() * self.x0) / (1 - a).sqrt()


def loss_of(sub, model, x0, device, generator=None, ab=AB):
    with substitute(sub, **H.TRUSTED):
        loss = sub.diffusion_loss(model, x0.to(device), ab.to(device), generator=generator)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, (
        "diffusion_loss must return a 0-dim tensor (the mean over every element), got "
        f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__}")
    return loss


def device_gen(device, seed):
    """A generator for the code under test, on its own stream (gen, seeded with seed, makes the inputs)."""
    return torch.Generator(device=device).manual_seed(seed + 7919)


@pytest.mark.parametrize("shape", [(64, 2), (16, 1, 4, 4), (32,)], ids=["points", "images", "scalars"])
def test_oracle_model_has_zero_loss(sub, observe, device, gen, seed, shape):
    """a model that predicts the true noise has loss 0 (the target is the noise, x_t from q_sample)"""
    x0 = torch.randn(shape, generator=gen, dtype=F64).to(device)
    loss = float(loss_of(sub, OracleModel(x0, AB), x0, device, device_gen(device, seed)))
    assert loss < 1e-12, (
        f"a model returning exactly the noise used to make x_t gets loss {loss:.4g}, not 0: the regression target "
        "is the noise (not x0), x_t = q_sample(x0, t, noise, alphas_cumprod), and the model is called as model(x_t, t)")
    observe("loss of the oracle model", loss, rtol=0.0, atol=1e-12)


def test_zero_model_loss_is_noise_power(sub, observe, device, gen, seed):
    """a model predicting zeros gets the mean square of standard Gaussian noise (about 1)"""
    x0 = torch.randn(4096, 3, generator=gen, dtype=F64)
    loss = float(loss_of(sub, lambda xt, t: torch.zeros_like(xt), x0, device, device_gen(device, seed)))
    assert 0.9 < loss < 1.1, (
        f"with a model predicting 0 the loss is {loss:.4f}; it should be the mean of noise^2 over every element, "
        "about 1 for N(0, I) noise: average (do not sum) over the batch AND the data dimensions, draw the noise "
        "with torch.randn")
    observe("loss of the zero model", loss, rtol=0.0, atol=0.1)


def test_recorded_draws(sub, observe, device, gen, seed):
    """t is uniform over every step, the noise is standard Gaussian and independent of x0, the loss is their MSE"""
    B = 4000
    x0 = torch.randn(B, 2, generator=gen, dtype=F64) * 2 + 1
    calls = []

    def model(xt, t):
        calls.append((xt.detach().cpu(), t.detach().cpu()))
        return 0.3 * xt + 0.1

    loss = float(loss_of(sub, model, x0, device, device_gen(device, seed)))
    assert len(calls) == 1, f"diffusion_loss must call the model once, on the whole batch, not {len(calls)} times"
    xt, t = calls[0]
    assert t.dtype == torch.long and t.shape == (B,), (
        f"the model must be called with t a ({B},) long tensor, got {t.dtype} {tuple(t.shape)}")
    assert int(t.min()) >= 0 and int(t.max()) < T, f"t must lie in 0..{T - 1}, got {int(t.min())}..{int(t.max())}"
    a = AB[t].view(-1, 1)
    noise = (xt - a.sqrt() * x0) / (1 - a).sqrt()  # what q_sample must have been given
    recomputed = float(((noise - (0.3 * xt + 0.1)) ** 2).mean())
    consistent = abs(loss - recomputed) < 1e-6 * max(1.0, recomputed)
    assert consistent, (
        f"the loss {loss:.6f} is not the mean squared error between the noise that made x_t and the model's output "
        f"({recomputed:.6f})")
    steps = sorted(set(t.tolist()))
    assert steps == list(range(T)), f"over {B} samples every step 0..{T - 1} should be drawn; drew {steps}"
    observe("loss is the MSE of the noise that made x_t", consistent)
    observe("steps drawn", steps)
    observe("mean of t / (T - 1)", float(t.double().mean()) / (T - 1), rtol=0.0, atol=0.04)
    observe("noise mean", float(noise.mean()), rtol=0.0, atol=0.06)
    observe("noise std", float(noise.std()), rtol=0.0, atol=0.06)
    observe("|corr(noise, x0)| small", abs(H.corr(noise, x0)) < 0.1)
    observe("|corr(noise, t)| small", abs(H.corr(noise[:, 0], t.double())) < 0.1)


def test_randomness_from_generator_only(sub, observe, device, gen, seed):
    """draws only from the generator given: the global RNG is untouched, one seed gives one loss"""
    x0 = torch.randn(32, 2, generator=gen, dtype=F64)
    model = lambda xt, t: 0.5 * xt  # noqa: E731
    state = torch.get_rng_state()
    cuda_state = torch.cuda.get_rng_state() if device.type == "cuda" else None
    a = float(loss_of(sub, model, x0, device, device_gen(device, seed)))
    untouched = torch.equal(state, torch.get_rng_state()) and (
        cuda_state is None or torch.equal(cuda_state, torch.cuda.get_rng_state()))
    b = float(loss_of(sub, model, x0, device, device_gen(device, seed)))
    c = float(loss_of(sub, model, x0, device, device_gen(device, seed + 1)))
    assert untouched, (
        "diffusion_loss drew from the global random generator although a generator was given: pass generator= to "
        "torch.randint and torch.randn (torch.randn_like takes no generator)")
    assert a == b, "two calls with generators seeded alike gave different losses: take every random number from it"
    assert a != c, "generators seeded differently gave the same loss: draw t and the noise from the generator"
    observe("global RNG untouched", untouched)
    observe("reproducible from the generator", a == b and a != c)


def test_gradients_flow(sub, observe, device, gen, seed):
    """the loss is differentiable with respect to the model's parameters"""
    lin = torch.nn.Linear(2, 2).to(device).double()
    x0 = torch.randn(16, 2, generator=gen, dtype=F64)
    loss = loss_of(sub, lambda xt, t: lin(xt), x0, device, device_gen(device, seed))
    assert loss.requires_grad, "the loss does not require grad: do not detach the model's output or call .item()"
    loss.backward()
    ok = lin.weight.grad is not None and bool(lin.weight.grad.abs().sum() > 0)
    assert ok, "backward() left no gradient on the model's parameters"
    observe("gradients reach the model", ok)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that a loss wrong on every input keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("loss", weight=18)
def test_whole_contract(sub, observe, device, gen, seed):
    """the oracle scores zero, the zero model the noise power, draws of t and noise, from the generator only"""
    test_oracle_model_has_zero_loss(sub, observe, device, gen, seed, (16, 1, 4, 4))
    test_zero_model_loss_is_noise_power(sub, observe, device, gen, seed)
    test_recorded_draws(sub, observe, device, gen, seed)
    test_randomness_from_generator_only(sub, observe, device, gen, seed)

"""Hidden tests of `train_denoiser(model, data, alphas_cumprod, steps, batch_size=128, lr=1e-3, generator=None,
progress=False) -> list of floats`: Adam(lr) on diffusion_loss over random minibatches of data.

The mechanics are tested with `diffusion_loss` pointed at a deterministic stand-in (so the Adam
trajectory does not depend on random draws) and data whose rows are all equal (so it does not depend
on which rows are drawn). The last test is the integration test: your training loop with your loss
trains a small MLP on two moons, and your DDIM sampler draws from it; a bug in the loss or the
sampler can cost points there too.
"""


import pytest
import torch

from autograder.testing import load_helpers, substitute
from shared.data import moons

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("train")


class Affine(torch.nn.Module):
    """eps(x, t) = W x + b (t ignored), weights from the test's generator."""

    def __init__(self, gen, d=2):
        super().__init__()
        self.lin = torch.nn.Linear(d, d)
        with torch.no_grad():
            self.lin.weight.copy_(torch.randn(d, d, generator=gen))
            self.lin.bias.copy_(torch.randn(d, generator=gen))

    def forward(self, x, t):
        return self.lin(x)


class StandInLoss:
    """A deterministic loss with diffusion_loss's signature; records what it is called with."""

    def __init__(self):
        self.calls = []

    def __call__(self, model, x0, alphas_cumprod, generator=None):
        self.calls.append((x0.detach().cpu().clone(), alphas_cumprod, generator))
        t = torch.zeros(x0.shape[0], dtype=torch.long, device=x0.device)
        return ((model(x0, t) - (0.5 * x0.flip(-1) + 1)) ** 2).mean()


def run(sub, model, data, ab, steps, generator, loss=None, **kwargs):
    loss = loss or StandInLoss()
    with substitute(sub, diffusion_loss=loss):
        losses = sub.train_denoiser(model, data, ab, steps, generator=generator, **kwargs)
    assert isinstance(losses, list) and len(losses) == steps, (
        f"train_denoiser must return a list of the {steps} losses")
    assert all(type(v) is float for v in losses), "the losses must be Python floats (loss.item())"
    return losses, loss


def one_row_data(gen, n, device):
    return torch.randn(1, 2, generator=gen).expand(n, 2).contiguous().to(device)


@pytest.mark.parametrize("lr,batch_size", [(0.05, 8), (0.2, 3)])
def test_adam_steps(sub, observe, device, gen, seed, lr, batch_size):
    """six Adam steps match the reference (losses returned and parameters after)"""
    model = Affine(gen).to(device)
    data = one_row_data(gen, 40, device)
    ab = H.alphas_cumprod(H.linear_betas(10)).to(device)
    g = torch.Generator(device=device).manual_seed(seed + 7919)
    losses, loss = run(sub, model, data, ab, 6, g, lr=lr, batch_size=batch_size)
    assert len(loss.calls) == 6, f"diffusion_loss must be called once per step; it was called {len(loss.calls)} times"
    for x0, ab_seen, g_seen in loss.calls:
        assert tuple(x0.shape) == (batch_size, 2), f"each minibatch must have batch_size={batch_size} rows"
        assert g_seen is g, "pass the generator given to train_denoiser on to diffusion_loss"
        assert ab_seen is ab or torch.equal(ab_seen, ab), "pass alphas_cumprod on to diffusion_loss unchanged"
    observe("losses", losses, rtol=1e-5)
    for name, p in model.named_parameters():
        observe(f"{name} after training", p.detach().cpu())


def test_defaults(sub, observe, device, gen, seed):
    """uses batch_size=128 and lr=1e-3 by default"""
    model = Affine(gen).to(device)
    data = one_row_data(gen, 200, device)
    ab = H.alphas_cumprod(H.linear_betas(10)).to(device)
    losses, loss = run(sub, model, data, ab, 3, torch.Generator(device=device).manual_seed(seed + 7919))
    observe("batch size", int(loss.calls[0][0].shape[0]))
    observe("losses", losses, rtol=1e-5)
    for name, p in model.named_parameters():
        observe(f"{name} after training", p.detach().cpu())


def test_minibatches(sub, observe, device, gen, seed):
    """minibatches are rows of the data, drawn afresh at every step"""
    N = 50
    data = torch.randn(N, 2, generator=gen).to(device)
    ab = H.alphas_cumprod(H.linear_betas(10)).to(device)
    g = torch.Generator(device=device).manual_seed(seed + 7919)
    losses, loss = run(sub, Affine(gen).to(device), data, ab, 40, g, batch_size=8)
    rows = {tuple(r) for r in data.cpu().tolist()}
    drawn = [tuple(r) for x0, _, _ in loss.calls for r in x0.tolist()]
    assert all(r in rows for r in drawn), "every row of a minibatch must be a row of data (index data with the draws)"
    seen = len(set(drawn))
    distinct_batches = len({tuple(sorted(map(tuple, x0.tolist()))) for x0, _, _ in loss.calls})
    assert seen >= 0.8 * N and distinct_batches >= 35, (
        f"40 minibatches of 8 rows covered only {seen} of the {N} rows ({distinct_batches} distinct minibatches): "
        "draw new random indices at every step")
    observe("minibatches drawn afresh over the whole data", True)


def test_minibatches_from_generator(sub, observe, device, gen, seed):
    """minibatches are drawn from the generator given only (with or without replacement: either is correct)"""
    data = torch.randn(30, 2, generator=gen).to(device)
    ab = H.alphas_cumprod(H.linear_betas(10)).to(device)
    models = [Affine(torch.Generator().manual_seed(1)).to(device) for _ in range(3)]  # nn.Linear draws globally
    state = torch.get_rng_state()
    drawn = []
    for model, s in zip(models, (seed, seed, seed + 1)):
        _, loss = run(sub, model, data, ab, 5, torch.Generator(device=device).manual_seed(s + 7919), batch_size=6)
        drawn.append(torch.stack([x0 for x0, _, _ in loss.calls]))
    assert torch.equal(state, torch.get_rng_state()), (
        "train_denoiser drew from the global random generator: draw the minibatch indices from `generator`")
    assert torch.equal(drawn[0], drawn[1]), "two runs with generators seeded alike drew different minibatches"
    assert not torch.equal(drawn[0], drawn[2]), "generators seeded differently drew the same minibatches"
    observe("minibatches from the generator only", True)


# The loop is one contract (Adam's steps on fresh minibatches from the generator): this test runs the checks above
# and carries two thirds of the question's points, so that a loop wrong on every input keeps at most a third.
@pytest.mark.question("train", weight=30)
def test_whole_contract(sub, observe, device, gen, seed):
    """the whole loop: Adam's steps, fresh minibatches of the data, drawn from the generator only"""
    test_adam_steps(sub, observe, device, gen, seed, 0.05, 8)
    test_minibatches(sub, observe, device, gen, seed)
    test_minibatches_from_generator(sub, observe, device, gen, seed)


# --------------------------------------------------------------------------- integration

T, BATCH, SAMPLE_STEPS = 100, 128, 20
STAGES = [(500, 5e-3), (300, 1.5e-3), (200, 5e-4)]  # (steps, lr): three calls, a step-decayed learning rate
STEPS = sum(n for n, _ in STAGES)
# Symmetric Chamfer distance to 1000 held-out points (tests/test_diffusion_reference.py checks the margins): the
# reference 0.20 +- 0.01 (0.19 to 0.23 over 120 seeds, correct variants alike), N(0, I) 0.34, one moon
# alone 0.48, the training data itself 0.06. The energy distance, used before, separated too little:
# the reference's 0.019 +- 0.005 against 0.05 for N(0, I) failed a correct loop about once in 40 seeds.
THRESHOLD = 0.27


def test_learns_two_moons(sub, observe, device, seed):
    """a small MLP trained with your loop and loss, sampled with your DDIM sampler, draws two moons"""
    x, _ = moons(4000, noise=0.05, seed=0)
    x = (x - x.mean(0)) / x.std(0)  # (4000, 2), standardised
    train, held_out = x[:3000].to(device), x[3000:]
    ab = H.alphas_cumprod(H.linear_betas(T, 1e-4, 0.2)).to(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = H.ToyDenoiser(T).to(device)
    g = torch.Generator(device=device).manual_seed(seed + 7919)
    with substitute(sub, q_sample=H.trusted_q_sample, ddim_step=H.trusted_ddim_step,
                    posterior_mean_variance=H.trusted_posterior_mean_variance):
        losses = []
        for n, lr in STAGES:
            losses += sub.train_denoiser(model, train, ab, n, batch_size=BATCH, lr=lr, generator=g)
        model.eval()
        samples = sub.ddim_sample(model, (1000, 2), ab, SAMPLE_STEPS, generator=g)
    samples = samples.detach().cpu().to(F64)
    finite = bool(torch.isfinite(samples).all())
    dist = H.chamfer(samples, held_out) if finite else float("inf")
    learned = dist < THRESHOLD
    assert learned, (
        f"after {STEPS} Adam steps (learning rates {[lr for _, lr in STAGES]}) the DDIM samples are at Chamfer "
        f"distance {dist:.3f} from held-out two-moons data (below {THRESHOLD} is needed; the reference gets about "
        f"0.20, standard normal noise 0.34). The training loss went from "
        f"{sum(losses[:50]) / 50:.3f} to {sum(losses[-50:]) / 50:.3f} (first and last 50 steps). This trains with "
        "your loss and samples with your DDIM sampler: check those questions' tests too.")
    observe("samples at Chamfer distance below the threshold", learned)
    observe("training loss went down", sum(losses[-50:]) < sum(losses[:50]))

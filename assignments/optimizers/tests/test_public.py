"""Public tests of the optimizers assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference
solution's values (shipped in snapshots.json). The hidden tests check the same
things more thoroughly: more steps, learning-rate changes, parameter groups,
float32, tiny and huge gradients, tall matrices, edge cases of the schedule.
"""

import pytest
import torch

from autograder.testing import expect_close, expect_raises, seeded, substitute
from shared.linalg import newton_schulz_spectral
from shared.models import MLP

F64 = torch.float64


def make_params(gen, shapes, dtype, device):
    return [torch.nn.Parameter(torch.randn(*s, generator=gen, dtype=dtype).to(device)) for s in shapes]


def set_grads(params, gen, scale=1.0):
    for p in params:
        p.grad = (scale * torch.randn(p.shape, generator=gen, dtype=p.dtype)).to(p.device)


# --------------------------------------------------------------------------- sgd


@pytest.mark.question("sgd")
@pytest.mark.parametrize(
    "config",
    [{}, {"momentum": 0.9, "weight_decay": 0.1}, {"momentum": 0.9, "nesterov": True}],
    ids=["plain", "momentum_weight_decay", "nesterov"],
)
def test_sgd_three_steps(sub, observe, device, config):
    """matches the reference over 3 steps"""
    gen = torch.Generator().manual_seed(seeded(0))
    params = make_params(gen, [(3, 2), (4,)], F64, device)
    opt = sub.SGD(params, lr=0.1, **config)
    for step in range(1, 4):
        set_grads(params, gen)
        opt.step()
        for i, p in enumerate(params):
            observe(f"parameter {i} after step {step}", p.detach().clone())


@pytest.mark.question("sgd")
def test_sgd_rejects_nesterov_without_momentum(sub, observe, device):
    """raises ValueError for nesterov=True with momentum 0"""
    p = torch.nn.Parameter(torch.zeros(3, dtype=F64).to(device))
    with expect_raises(ValueError, "SGD(..., momentum=0.0, nesterov=True) must raise ValueError, as torch.optim.SGD "
                       "does: Nesterov momentum needs a momentum > 0"):
        sub.SGD([p], lr=0.1, momentum=0.0, nesterov=True)
    observe("raised ValueError", True)
    p.grad = torch.ones(3, dtype=F64).to(device)
    sub.SGD([p], lr=0.1, momentum=0.9, nesterov=True).step()  # a valid configuration steps
    observe("p after one Nesterov step", p.detach().clone())


# --------------------------------------------------------------------------- adam


@pytest.mark.question("adam")
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam_l2", "adamw"])
def test_adam_three_steps(sub, observe, device, decoupled):
    """matches the reference over 3 steps with weight decay"""
    gen = torch.Generator().manual_seed(seeded(1))
    params = make_params(gen, [(3, 2), (4,)], F64, device)
    opt = sub.Adam(params, lr=0.05, betas=(0.8, 0.95), weight_decay=0.2, decoupled=decoupled)
    for step in range(1, 4):
        set_grads(params, gen)
        opt.step()
        for i, p in enumerate(params):
            observe(f"parameter {i} after step {step}", p.detach().clone())


@pytest.mark.question("adam")
def test_adam_first_step_is_lr_sized(sub, observe, device):
    """moves every coordinate by about lr on the first step (bias correction)"""
    gen = torch.Generator().manual_seed(seeded(2))
    (p,) = make_params(gen, [(5,)], F64, device)
    start = p.detach().clone()
    opt = sub.Adam([p], lr=0.01)
    set_grads([p], gen)
    opt.step()
    moved = (p.detach() - start).abs()
    expect_close(
        moved, torch.full_like(moved, 0.01),
        ("with bias correction Adam's first update is lr * g / (|g| + eps), about lr in every coordinate; "
        f"yours moved by {moved.tolist()}"),
        rtol=1e-4
    )
    observe("p after one step", p.detach().clone())


# --------------------------------------------------------------------------- newton_schulz


@pytest.mark.question("newton_schulz")
@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (5, 5)], ids=["wide", "tall", "square"])
def test_newton_schulz_values(sub, observe, device, shape):
    """matches the reference and keeps G's shape and dtype"""
    gen = torch.Generator().manual_seed(seeded(3))
    G = (100 * torch.randn(*shape, generator=gen, dtype=F64)).to(device)
    out = sub.newton_schulz(G)
    assert tuple(out.shape) == shape, f"newton_schulz must return G's shape {shape}, got {tuple(out.shape)}"
    assert out.dtype == G.dtype, f"newton_schulz must return G's dtype {G.dtype}, got {out.dtype}"
    observe("newton_schulz(G)", out)


@pytest.mark.question("newton_schulz")
def test_newton_schulz_zero(sub, observe, device):
    """maps a zero matrix to zeros, not NaN"""
    out = sub.newton_schulz(torch.zeros(3, 5, dtype=F64).to(device))
    assert torch.isfinite(out).all(), "newton_schulz(0) gave NaN or inf: divide by ||G||_F + eps"
    observe("newton_schulz(zeros)", out)


# --------------------------------------------------------------------------- muon


def trusted_ns(sub):
    """Muon's tests run with a trusted stand-in for your newton_schulz (the same map, computed
    through an eigendecomposition), so that a mistake there costs points only on newton_schulz.
    Muon must call newton_schulz by name; if you inlined the iteration, yours runs instead."""
    return substitute(sub, newton_schulz=newton_schulz_spectral)


@pytest.mark.question("muon")
@pytest.mark.parametrize("nesterov", [True, False], ids=["nesterov", "plain_momentum"])
def test_muon_three_steps(sub, observe, device, nesterov):
    """matches the reference over 3 steps on a wide and a tall matrix"""
    gen = torch.Generator().manual_seed(seeded(4))
    params = make_params(gen, [(3, 5), (6, 3)], F64, device)
    with trusted_ns(sub):
        opt = sub.Muon(params, lr=0.05, momentum=0.9, nesterov=nesterov, weight_decay=0.1)
        for step in range(1, 4):
            set_grads(params, gen, scale=100.0)  # large enough that Newton-Schulz's eps does not matter
            opt.step()
            for i, p in enumerate(params):
                observe(f"parameter {i} after step {step}", p.detach().clone())


@pytest.mark.question("muon")
def test_muon_rejects_vectors(sub, observe, device):
    """raises ValueError at construction for a 1-D parameter"""
    bias = torch.nn.Parameter(torch.zeros(4, dtype=F64).to(device))
    with expect_raises(ValueError, "Muon([bias]) must raise ValueError when it is built: Muon orthogonalises "
                       "2-D weight matrices; vectors (biases, norms) belong to AdamW"):
        sub.Muon([bias])
    observe("raised ValueError", True)
    W = torch.nn.Parameter(torch.zeros(4, 3, dtype=F64).to(device))
    W.grad = 100 * torch.ones(4, 3, dtype=F64).to(device)
    with trusted_ns(sub):
        sub.Muon([W]).step()  # a matrix is fine
    observe("W after one step", W.detach().clone())


# --------------------------------------------------------------------------- lr_schedule


@pytest.mark.question("lr_schedule")
def test_lr_schedule_values(sub, observe, device):
    """matches the reference during warmup, decay and after the end"""
    lrs = [sub.cosine_with_warmup(s, 20, 4, 1.0, 0.1) for s in [0, 1, 2, 3, 4, 5, 12, 19, 20, 25]]
    for lr in lrs:
        assert isinstance(lr, float), f"cosine_with_warmup must return a Python float, got {type(lr).__name__}"
    assert lrs[0] == 0.0, f"warmup starts from 0 at step 0, got {lrs[0]}"
    assert lrs[4] == pytest.approx(1.0), f"at step == warmup_steps the schedule is at peak_lr, got {lrs[4]}"
    observe("learning rates", lrs)


# --------------------------------------------------------------------------- mup


@pytest.mark.question("mup")
def test_mup_learning_rates(sub, observe, device):
    """gives every parameter of a two-hidden-layer MLP the reference's learning rate"""
    model = MLP(5, 64, 3, n_hidden=2).to(device)
    groups = sub.mup_param_groups(model, 16, 0.01)
    lr_of = {}
    for group in groups:
        params = group["params"]
        for p in [params] if isinstance(params, torch.Tensor) else list(params):
            assert id(p) not in lr_of, "a parameter appears in two groups"
            lr_of[id(p)] = float(group["lr"])
    for name, p in model.named_parameters():
        assert id(p) in lr_of, f"parameter {name!r} is in no group"
        observe(f"lr of {name}", lr_of[id(p)])

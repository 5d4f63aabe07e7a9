"""Hidden tests of `Muon` (2-D parameters only).

buf (zeros at first) .lerp_(g, 1 - mu); update = g.lerp(buf, mu) with Nesterov, else buf;
O = newton_schulz(update, ns_steps); p *= 1 - lr * wd; p -= lr * sqrt(max(1, rows / cols)) * O.

While these tests run, the module's `newton_schulz` is replaced by a trusted stand-in
(the same map computed through an eigendecomposition, shared.linalg), so that a
mistake in your `newton_schulz` costs points only on that question.
That works because Muon looks the global name `newton_schulz` up when `step()` runs;
if you inlined the iteration instead, your own copy runs and has to be right.
Parameters are tall, wide and square so that the aspect-ratio scale matters.
Gradients are about 100 in size so that Newton-Schulz's eps (1e-7) is negligible:
Muon's direction then depends only on its own momentum logic.
"""

import pytest
import torch

from autograder.testing import expect_close, expect_equal, substitute
from shared.linalg import newton_schulz_spectral

pytestmark = pytest.mark.question("muon")

F64 = torch.float64


def trusted_ns(sub):
    """Point the name `newton_schulz` that the submission's Muon sees at the trusted stand-in."""
    return substitute(sub, newton_schulz=newton_schulz_spectral)


# wide, tall (aspect 1.5), square, tall (aspect 4), and a second wide one of the
# same shape as the first (state shared between parameters shows up there)
SHAPES = [(4, 6), (6, 4), (5, 5), (8, 2), (4, 6)]


def make_params(gen, shapes, dtype, device):
    return [torch.nn.Parameter(torch.randn(*s, generator=gen, dtype=dtype).to(device)) for s in shapes]


def set_grads(params, gen, scale=100.0):
    for p in params:
        p.grad = (scale * torch.randn(p.shape, generator=gen, dtype=p.dtype)).to(p.device)


def observe_params(observe, params, step, **tol):
    for i, p in enumerate(params):
        observe(f"parameter {i} ({p.shape[0]}x{p.shape[1]}) after step {step}", p.detach().clone(), **tol)


CONFIGS = {
    "defaults": {},
    "no_nesterov": {"nesterov": False, "momentum": 0.9},
    "weight_decay": {"lr": 0.05, "weight_decay": 0.1},
    "ns_steps_3": {"ns_steps": 3, "momentum": 0.8},
}


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_trajectory(sub, observe, device, config):
    """matches the reference over 6 steps with a learning-rate change after step 3"""
    gen = torch.Generator().manual_seed(31)
    params = make_params(gen, SHAPES, F64, device)
    with trusted_ns(sub):
        opt = sub.Muon(params, **config)
        for step in range(1, 7):
            if step == 4:
                # Schedulers change group["lr"] between steps: read it at every step.
                for group in opt.param_groups:
                    group["lr"] = group["lr"] / 2
            set_grads(params, gen)
            opt.step()
            observe_params(observe, params, step)


def test_float32(sub, observe, device):
    """works in float32"""
    gen = torch.Generator().manual_seed(32)
    params = make_params(gen, SHAPES, torch.float32, device)
    with trusted_ns(sub):
        opt = sub.Muon(params, lr=0.05, weight_decay=0.1)
        for step in range(1, 5):
            set_grads(params, gen)
            opt.step()
            for p in params:
                assert p.dtype == torch.float32, "Muon must keep the parameters' dtype (float32 here)"
            observe_params(observe, params, step)


def test_momentum_read_each_step(sub, observe, device):
    """reads momentum and nesterov from param_groups at every step"""
    gen = torch.Generator().manual_seed(33)
    params = make_params(gen, SHAPES[:3], F64, device)
    with trusted_ns(sub):
        opt = sub.Muon(params, lr=0.05, momentum=0.9)
        for step in range(1, 6):
            if step == 3:
                opt.param_groups[0]["momentum"] = 0.5
            if step == 5:
                opt.param_groups[0]["nesterov"] = False
            set_grads(params, gen)
            opt.step()
            observe_params(observe, params, step)


def test_param_groups(sub, observe, device):
    """uses each parameter group's own hyperparameters"""
    gen = torch.Generator().manual_seed(34)
    a, b, c = make_params(gen, SHAPES[:3], F64, device)
    with trusted_ns(sub):
        opt = sub.Muon(
            [
                {"params": [a], "lr": 0.1, "momentum": 0.5},
                {"params": [b], "weight_decay": 0.2, "nesterov": False},
                {"params": [c], "ns_steps": 2},
            ],
            lr=0.03,
        )
        for step in range(1, 5):
            set_grads([a, b, c], gen)
            opt.step()
            observe_params(observe, [a, b, c], step)


def test_skips_params_without_grad(sub, observe, device):
    """skips parameters whose .grad is None (no weight decay for them)"""
    gen = torch.Generator().manual_seed(35)
    a, b, c = make_params(gen, SHAPES[:3], F64, device)
    with trusted_ns(sub):
        opt = sub.Muon([a, b, c], lr=0.05, weight_decay=0.1)
        for step in range(1, 6):
            b_before = b.detach().clone()
            set_grads([a, c] if step <= 2 else [a, b, c], gen)
            opt.step()
            if step <= 2:
                expect_equal(
                    b.detach(), b_before,
                    "a parameter whose .grad is None must be skipped entirely (no weight decay either)",
                )
            observe_params(observe, [a, b, c], step)


def test_gradient_scale(sub, observe, device):
    """gives the same steps when every gradient is 10^4 times larger (the update is orthogonalised)"""
    gen = torch.Generator().manual_seed(36)
    shapes = SHAPES[:2]
    init = [torch.randn(*s, generator=gen, dtype=F64) for s in shapes]
    grads = [[torch.randn(*s, generator=gen, dtype=F64) for s in shapes] for _ in range(3)]
    finals = []
    with trusted_ns(sub):
        for scale in (1e2, 1e6):
            params = [torch.nn.Parameter(t.clone().to(device)) for t in init]
            opt = sub.Muon(params, lr=0.05)
            for step, gs in enumerate(grads, 1):
                for p, g in zip(params, gs):
                    p.grad = (scale * g).to(device)
                opt.step()
                observe_params(observe, params, step)
            finals.append([p.detach().cpu().clone() for p in params])
    for small, large in zip(*finals):
        expect_close(
            small, large,
            ("Muon's step should not depend on the gradient's scale: the momentum is a lerp (an average) "
            "and Newton-Schulz normalises its input"),
            rtol=1e-6, atol=1e-9
        )


def test_closure(sub, observe, device):
    """step(closure) evaluates the closure and returns its loss"""
    gen = torch.Generator().manual_seed(37)
    x = torch.randn(8, 5, generator=gen, dtype=F64).to(device)
    y = torch.randn(8, 3, generator=gen, dtype=F64).to(device)
    (W,) = make_params(gen, [(5, 3)], F64, device)
    with trusted_ns(sub):
        opt = sub.Muon([W], lr=0.05)

        def closure():
            opt.zero_grad()
            with torch.enable_grad():  # works whether or not step() runs under no_grad
                loss = 100 * ((x @ W - y) ** 2).sum()
                loss.backward()
            return loss

        for step in range(1, 5):
            loss = opt.step(closure)
            assert loss is not None, "step(closure) must return the loss the closure returned"
            observe(f"loss returned by step {step}", float(loss))
            observe(f"W after step {step}", W.detach().clone())


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), ()], ids=["vector", "3d", "scalar"])
def test_rejects_non_matrix(sub, observe, device, shape):
    """raises ValueError at construction for a parameter that is not 2-D"""
    gen = torch.Generator().manual_seed(38)
    W = torch.nn.Parameter(torch.randn(4, 4, generator=gen, dtype=F64).to(device))
    p = torch.nn.Parameter(torch.randn(shape, generator=gen, dtype=F64).to(device))
    with pytest.raises(ValueError):
        # the bad parameter comes second: every parameter must be checked
        sub.Muon([W, p], lr=0.02)
    observe("raised ValueError", True)
    with trusted_ns(sub):
        W.grad = 100 * torch.randn(4, 4, generator=gen, dtype=F64).to(device)
        sub.Muon([W], lr=0.02).step()  # a matrix alone is fine
    observe("W after one step", W.detach().clone())


def test_rejects_non_matrix_in_group(sub, observe, device):
    """raises ValueError for a non-2-D parameter inside a parameter group"""
    W = torch.nn.Parameter(torch.zeros(4, 4, dtype=F64).to(device))
    bias = torch.nn.Parameter(torch.zeros(4, dtype=F64).to(device))
    with pytest.raises(ValueError):
        sub.Muon([{"params": [W]}, {"params": [bias], "lr": 0.01}])
    observe("raised ValueError", True)
    with trusted_ns(sub):
        W.grad = 100 * torch.eye(4, dtype=F64).to(device)
        sub.Muon([{"params": [W]}], lr=0.01).step()
    observe("W after one step", W.detach().clone())


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's other 17 tests, public ones included, weigh 1 each), so that a Muon wrong in any
# regime (Nesterov on or off, weight decay on, a learning rate, momentum or Nesterov changed between steps,
# per-group settings, a parameter without gradient, the closure, the check that every parameter is a matrix)
# keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("muon", weight=34)
def test_whole_contract(sub, observe, device):
    """Nesterov and plain momentum, weight decay, changed hyperparameters, groups, no-grad params, closure, checks"""
    test_trajectory(sub, observe, device, CONFIGS["weight_decay"])
    test_trajectory(sub, observe, device, CONFIGS["no_nesterov"])
    test_momentum_read_each_step(sub, observe, device)
    test_param_groups(sub, observe, device)
    test_skips_params_without_grad(sub, observe, device)
    test_closure(sub, observe, device)
    test_rejects_non_matrix(sub, observe, device, (5,))
    test_rejects_non_matrix_in_group(sub, observe, device)

"""Hidden tests of `inner_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False)`.

Oracles: plain SGD with torch.optim.SGD on a copy of the model (the adapted values), MAML's inner
loop by torch.func.grad (the meta-gradients, second- and first-order), and the closed form of
linear regression. Every test starts from params that differ from the model's own weights, checks
both modes and that the given params are left untouched.
"""

import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from autograder.testing import expect_close, expect_equal, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("inner_adapt")
F64 = torch.float64
MODES = (("second-order", False), ("first-order", True))


def adapt(sub, model, params, x, y, loss_fn, lr, steps, first_order):
    before = {k: v.detach().clone() for k, v in params.items()}
    adapted = sub.inner_adapt(model, params, x, y, loss_fn, lr, steps=steps, first_order=first_order)
    ok = bool(isinstance(adapted, dict) and set(adapted) == set(params))
    assert ok, "inner_adapt returns a dict with the same keys as params"
    H.check_untouched(params, before, expect_equal, "inner_adapt")
    return adapted


def check_meta_gradient(mode, first_order, adapted, trusted, leaves, gen):
    """d/d leaves of a random projection of the adapted params: the student's against the trusted loop's."""
    weights = {k: torch.randn(v.shape, generator=gen, dtype=F64).to(v) for k, v in trusted.items()}
    got = torch.autograd.grad(sum((adapted[k] * w).sum() for k, w in weights.items()), list(leaves.values()))
    want = torch.autograd.grad(sum((trusted[k] * w).sum() for k, w in weights.items()), list(leaves.values()))
    rule = ("second-order: the adapted params stay differentiable functions of params, inner gradients included "
            "(create_graph=True)" if not first_order else
            "first-order: the inner gradients are constants, and d adapted / d params = I")
    tol = dict(rtol=1e-4, atol=1e-5) if got[0].dtype == torch.float32 else dict(rtol=1e-7, atol=1e-9)
    for k, g, w in zip(leaves, got, want):
        expect_close(g, w, f"{mode}: {rule} ({k})", **tol)


def meta_gradient(model, adapted, leaves, xq, upstream):
    out = functional_call(model, adapted, (xq,))
    return torch.autograd.grad((out * upstream).sum(), list(leaves.values()))


@pytest.mark.parametrize("steps", [2, 3])
def test_values_match_sgd(sub, observe, device, gen, steps):
    """the adapted values are those of plain SGD (torch.optim.SGD on a copy), in both modes"""
    model = H.mlp(gen, device, hidden=6)
    params = H.moved_params(model, gen)
    x = torch.randn(7, 1, generator=gen, dtype=F64).to(device)
    y = torch.randn(7, 1, generator=gen, dtype=F64).to(device)
    copy_ = copy.deepcopy(model)
    with torch.no_grad():
        for k, p in copy_.named_parameters():
            p.copy_(params[k])
    opt = torch.optim.SGD(copy_.parameters(), lr=0.2)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(copy_(x), y).backward()
        opt.step()
    sgd = dict(copy_.named_parameters())
    for mode, first_order in MODES:
        adapted = adapt(sub, model, params, x, y, F.mse_loss, 0.2, steps, first_order)
        for k in params:
            expect_close(adapted[k], sgd[k].detach(), f"{mode}: {steps} steps of SGD from params (not from the "
                         f"model's own weights) on the support loss ({k})", rtol=1e-7, atol=1e-9)
            observe(f"{mode} adapted {k}", adapted[k])
        trusted = H.trusted_adapt(model, params, x, y, F.mse_loss, 0.2, steps, first_order)
        check_meta_gradient(mode, first_order, adapted, trusted, params, gen)


@pytest.mark.parametrize("steps", [1, 2])
def test_meta_gradient(sub, observe, device, gen, steps):
    """the meta-gradient through the adaptation: with the Hessian term, or without it (first-order)"""
    model = H.mlp(gen, device)
    base = H.moved_params(model, gen)

    def params():  # functions of the leaves, as after an earlier step (a fresh graph per use)
        return {k: 1.5 * v for k, v in base.items()}

    x = torch.randn(6, 1, generator=gen, dtype=F64).to(device)
    y = torch.randn(6, 1, generator=gen, dtype=F64).to(device)
    xq = torch.randn(9, 1, generator=gen, dtype=F64).to(device)
    upstream = torch.randn(9, 1, generator=gen, dtype=F64).to(device)
    for mode, first_order in MODES:
        adapted = adapt(sub, model, params(), x, y, F.mse_loss, 0.1, steps, first_order)
        got = meta_gradient(model, adapted, base, xq, upstream)
        want = meta_gradient(model, H.trusted_adapt(model, params(), x, y, F.mse_loss, 0.1, steps, first_order), base,
                             xq, upstream)
        rule = ("second-order: the adapted params must stay differentiable functions of params, inner gradients "
                "included (create_graph=True)" if not first_order else
                "first-order: the inner gradients are constants (no graph through them), the params still carry the "
                "gradient (d adapted / d params = I)")
        for k, g, w in zip(base, got, want):
            expect_close(g, w, f"{rule} ({k})", rtol=1e-6, atol=1e-9)
            observe(f"{mode} meta-gradient {k}", g)


@pytest.mark.parametrize("steps", [1, 3])
def test_linear_regression_closed_form(sub, observe, device, gen, steps):
    """linear regression: the meta-gradient equals (I - alpha H)^steps grad L_q (second) or grad L_q (first)"""
    model = nn.Linear(1, 1).to(F64).to(device)
    params = H.moved_params(model, gen, scale=1.0)
    t = H.tasks(gen, 1, 5, 8, device)
    w = torch.cat([params["weight"].detach().reshape(-1), params["bias"].detach()])
    for mode, first_order in MODES:
        adapted = adapt(sub, model, params, t[0][0], t[1][0], F.mse_loss, 0.03, steps, first_order)
        loss = F.mse_loss(functional_call(model, adapted, (t[2][0],)), t[3][0])
        g = torch.autograd.grad(loss, [params["weight"], params["bias"]])
        got = torch.cat([g[0].reshape(-1), g[1]])
        want = H.linear_meta_gradient(w, tuple(x[:1] for x in t), 0.03, steps, first_order)
        expect_close(got, want, f"{mode}: the closed-form MAML meta-gradient of linear regression",
                     rtol=1e-7, atol=1e-9)
        observe(f"{mode} meta-gradient", got)


def test_float32_single_example_other_loss(sub, observe, device, gen):
    """float32, a support set of one example, an L1 loss: the loss_fn given is the one used"""
    model = H.mlp(gen, device, dtype=torch.float32)
    params = H.moved_params(model, gen)
    x = torch.randn(1, 1, generator=gen).to(device)
    y = torch.randn(1, 1, generator=gen).to(device)
    for mode, first_order in MODES:
        adapted = adapt(sub, model, params, x, y, F.l1_loss, 0.05, 2, first_order)
        want = H.trusted_adapt(model, params, x, y, F.l1_loss, 0.05, 2, first_order)
        for k in params:
            ok = bool(adapted[k].dtype == torch.float32)
            assert ok, f"adapted params keep the params' dtype float32 ({k} is {adapted[k].dtype})"
            expect_close(adapted[k], want[k], f"{mode}: SGD steps on loss_fn(model(x), y) with the given loss_fn ({k})",
                         rtol=1e-5, atol=1e-6)
            observe(f"{mode} adapted {k}", adapted[k])
        check_meta_gradient(mode, first_order, adapted, want, params, gen)

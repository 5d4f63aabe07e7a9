"""Hidden tests of `maml_loss(model, params, tasks, loss_fn, inner_lr, steps=1, first_order=False)`.

The name `inner_adapt` is pointed at a trusted inner loop (torch.func.grad), so these tests depend
on the objective alone. Oracles: the objective by another route, and the closed-form meta-gradient
of linear regression. Every test starts from params that differ from the model's own weights.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.testing import expect_close, expect_equal, load_helpers, substitute

H = load_helpers(__file__)
pytestmark = pytest.mark.question("maml_loss")
F64 = torch.float64
MODES = (("second-order", False), ("first-order", True))


def objective(sub, model, params, tasks, loss_fn, lr, steps, first_order):
    before = {k: v.detach().clone() for k, v in params.items()}
    with substitute(sub, inner_adapt=H.trusted_adapt):
        loss = sub.maml_loss(model, params, tasks, loss_fn, lr, steps=steps, first_order=first_order)
    ok = bool(isinstance(loss, torch.Tensor) and loss.dim() == 0)
    assert ok, "maml_loss returns a 0-d tensor (the mean over tasks)"
    H.check_untouched(params, before, expect_equal, "maml_loss")
    return loss


@pytest.mark.parametrize("T,steps", [(3, 2), (4, 3)])
def test_value_and_meta_gradient(sub, observe, device, gen, T, steps):
    """the mean over tasks of the query loss after adapting on the support set, and its meta-gradient"""
    model = H.mlp(gen, device)
    params = H.moved_params(model, gen)
    tasks = H.tasks(gen, T, 5, 7, device)
    for mode, first_order in MODES:
        loss = objective(sub, model, params, tasks, F.mse_loss, 0.05, steps, first_order)
        want = H.trusted_maml_loss(model, params, tasks, F.mse_loss, 0.05, steps, first_order)
        expect_close(loss, want, f"{mode}: the mean over the {T} tasks of the QUERY loss at the params adapted "
                     f"({steps} steps, from params) on that task's SUPPORT set", rtol=1e-7, atol=1e-9)
        got = torch.autograd.grad(loss, list(params.values()))
        ref = torch.autograd.grad(want, list(params.values()))
        for k, g, w in zip(params, got, ref):
            expect_close(g, w, f"{mode}: the meta-gradient ({k}); pass steps and first_order on to inner_adapt",
                         rtol=1e-6, atol=1e-9)
            observe(f"{mode} meta-gradient {k}", g)
        observe(f"{mode} meta-loss", loss)


@pytest.mark.parametrize("steps", [1, 2])
def test_linear_regression_closed_form(sub, observe, device, gen, steps):
    """linear regression: the meta-gradient matches its closed form, averaged over tasks"""
    model = nn.Linear(1, 1).to(F64).to(device)
    params = H.moved_params(model, gen, scale=1.0)
    tasks = H.tasks(gen, 3, 4, 6, device)
    w = torch.cat([params["weight"].detach().reshape(-1), params["bias"].detach()])
    for mode, first_order in MODES:
        loss = objective(sub, model, params, tasks, F.mse_loss, 0.04, steps, first_order)
        g = torch.autograd.grad(loss, [params["weight"], params["bias"]])
        got = torch.cat([g[0].reshape(-1), g[1]])
        want = H.linear_meta_gradient(w, tasks, 0.04, steps, first_order)
        expect_close(got, want, f"{mode}: the closed-form MAML meta-gradient of linear regression, averaged over tasks",
                     rtol=1e-7, atol=1e-9)
        observe(f"{mode} meta-gradient", got)


def test_float32_other_loss(sub, observe, device, gen):
    """float32 with an L1 loss: the loss_fn given is used on both sets"""
    model = H.mlp(gen, device, dtype=torch.float32)
    params = H.moved_params(model, gen)
    tasks = H.tasks(gen, 2, 3, 5, device, dtype=torch.float32)
    for mode, first_order in MODES:
        loss = objective(sub, model, params, tasks, F.l1_loss, 0.05, 2, first_order)
        want = H.trusted_maml_loss(model, params, tasks, F.l1_loss, 0.05, 2, first_order)
        expect_close(loss, want, f"{mode}: loss_fn on the query set after adaptation with loss_fn, mean over tasks",
                     rtol=1e-5, atol=1e-6)
        got = torch.autograd.grad(loss, list(params.values()))
        ref = torch.autograd.grad(want, list(params.values()))
        for k, g, w in zip(params, got, ref):
            expect_close(g, w, f"{mode}: the meta-gradient ({k}); pass steps and first_order on to inner_adapt",
                         rtol=1e-4, atol=1e-5)
        observe(f"{mode} meta-loss", loss)

"""Public tests of the metalearning assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more sizes,
several inner steps, float32, the meta-gradient against its closed form on linear regression,
task statistics, invariances of the prototypes and, for `train`, short meta-training runs.

Questions are graded on their own: maml_loss's tests point the name `inner_adapt` at a trusted
stand-in, and train's tests do the same for `maml_loss` and `proto_logits`, so call them BY NAME.
"""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from autograder.testing import expect_close, expect_equal, substitute

F64 = torch.float64


def small_mlp(gen, device, hidden=8):
    """A 1-hidden-8-1 tanh MLP in float64 with weights from `gen`."""
    model = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1)).to(F64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=F64))
    return model.to(device)


def leaf_params(model):
    return {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}


def f64_tasks(tasks, device):
    return tuple(t.to(F64).to(device) for t in tasks)


def stand_in_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    """inner_adapt the tests trust (the same maths by torch.func.grad)."""
    names = list(params)

    def support_loss(values):
        return loss_fn(functional_call(model, dict(zip(names, values)), (x,)), y)

    values = tuple(params.values())
    for _ in range(steps):
        grads = torch.func.grad(support_loss)(values)
        if first_order:
            grads = tuple(g.detach() for g in grads)
        values = tuple(v - inner_lr * g for v, g in zip(values, grads))
    return dict(zip(names, values))


# --------------------------------------------------------------------------- sinusoid tasks


@pytest.mark.question("sinusoid_tasks")
def test_sinusoid_tasks(sub, observe, gen):
    """shapes, y = A sin(x + phase) per task, and the draws in the documented order"""
    state = gen.get_state()
    xs, ys, xq, yq = sub.sample_sinusoid_tasks(3, 4, 6, gen)
    for name, t, shape in (("xs", xs, (3, 4, 1)), ("ys", ys, (3, 4, 1)), ("xq", xq, (3, 6, 1)), ("yq", yq, (3, 6, 1))):
        ok = bool(isinstance(t, torch.Tensor) and t.shape == shape)
        assert ok, f"{name} must be a tensor of shape {shape}"
    ok = bool((xs.abs() <= 5).all() and (xq.abs() <= 5).all() and (ys.abs() <= 5).all())
    assert ok, "x lies in [-5, 5] and |y| <= A <= 5"
    gen.set_state(state)
    again = sub.sample_sinusoid_tasks(3, 4, 6, gen)
    expect_equal(again[0], xs, "the same generator state must give the same tasks")
    for name, value in zip(("xs", "ys", "xq", "yq"), (xs, ys, xq, yq)):
        observe(name, value)
    observe("next draw of the generator", torch.rand(1, generator=gen))


# --------------------------------------------------------------------------- inner_adapt


@pytest.mark.question("inner_adapt")
@pytest.mark.parametrize("first_order", [False, True], ids=["second-order", "first-order"])
def test_inner_adapt(sub, observe, device, gen, first_order):
    """two steps from params (not the model's weights); params untouched; the meta-gradient flows back"""
    model = small_mlp(gen, device)
    base = leaf_params(model)  # the meta-parameters; params below are functions of them, as in a second step
    params = {k: v + 0.1 * torch.randn(v.shape, generator=gen, dtype=F64).to(device) for k, v in base.items()}
    before = {k: v.detach().clone() for k, v in params.items()}
    x = torch.randn(5, 1, generator=gen, dtype=F64).to(device)
    y = torch.randn(5, 1, generator=gen, dtype=F64).to(device)
    adapted = sub.inner_adapt(model, params, x, y, F.mse_loss, 0.1, steps=2, first_order=first_order)
    ok = bool(isinstance(adapted, dict) and set(adapted) == set(params))
    assert ok, "inner_adapt returns a dict with the keys of params"
    for k in params:
        expect_equal(params[k].detach(), before[k], f"inner_adapt must not modify the given params ({k})")
        observe(f"adapted {k}", adapted[k])
    xq = torch.randn(7, 1, generator=gen, dtype=F64).to(device)
    query = F.mse_loss(functional_call(model, adapted, (xq,)), torch.sin(xq))
    for k, g in zip(base, torch.autograd.grad(query, list(base.values()))):
        observe(f"meta-gradient {k}", g)


# --------------------------------------------------------------------------- maml_loss


@pytest.mark.question("maml_loss")
@pytest.mark.parametrize("first_order", [False, True], ids=["second-order", "first-order"])
def test_maml_loss(sub, observe, device, gen, first_order):
    """the mean query loss after two inner steps and its meta-gradient (with a trusted inner_adapt)"""
    model = small_mlp(gen, device)
    params = leaf_params(model)
    tasks = f64_tasks(sub_free_tasks(gen, 3, 5, 6), device)
    with substitute(sub, inner_adapt=stand_in_adapt):
        loss = sub.maml_loss(model, params, tasks, F.mse_loss, 0.05, steps=2, first_order=first_order)
    ok = bool(isinstance(loss, torch.Tensor) and loss.dim() == 0)
    assert ok, "maml_loss returns a 0-d tensor"
    observe("meta-loss", loss)
    for k, g in zip(params, torch.autograd.grad(loss, list(params.values()))):
        observe(f"meta-gradient {k}", g)


def sub_free_tasks(gen, T, K, Kq):
    """Sinusoid tasks drawn by the tests themselves (not by your sample_sinusoid_tasks)."""
    amp = torch.empty(T, 1, 1).uniform_(0.1, 5.0, generator=gen)
    phase = torch.empty(T, 1, 1).uniform_(0.0, math.pi, generator=gen)
    xs = torch.empty(T, K, 1).uniform_(-5.0, 5.0, generator=gen)
    xq = torch.empty(T, Kq, 1).uniform_(-5.0, 5.0, generator=gen)
    return xs, amp * torch.sin(xs + phase), xq, amp * torch.sin(xq + phase)


# --------------------------------------------------------------------------- proto_logits


@pytest.mark.question("proto_logits")
def test_proto_logits(sub, observe, device, gen):
    """(Q, n_way) logits, at most 0, largest for the query sitting on a prototype"""
    S, Q, D, N = 9, 5, 4, 3
    support = torch.randn(S, D, generator=gen, dtype=F64).to(device)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 0, 1]).to(device)
    query = torch.randn(Q, D, generator=gen, dtype=F64).to(device)
    logits = sub.proto_logits(support, labels, query, N)
    ok = bool(isinstance(logits, torch.Tensor) and logits.shape == (Q, N))
    assert ok, f"proto_logits returns (Q, n_way) = {(Q, N)}"
    ok = bool((logits <= 1e-12).all())
    assert ok, "logits are minus squared distances: never positive"
    on_proto = support[labels == 2].mean(dim=0, keepdim=True)  # (1, D): the prototype of class 2
    expect_close(sub.proto_logits(support, labels, on_proto, N)[0, 2], torch.zeros((), dtype=F64).to(device),
                 "a query equal to a class's prototype has logit 0 for that class", atol=1e-10)
    observe("logits", logits)


# --------------------------------------------------------------------------- train


@pytest.mark.question("train")
def test_maml_step(sub, observe, device, gen):
    """one first-order meta-update with two inner steps: meta-loss and weights after it (trusted maml_loss)"""

    def stand_in_loss(model, params, tasks, loss_fn, inner_lr, steps=1, first_order=False):
        xs, ys, xq, yq = tasks
        losses = [loss_fn(functional_call(model, stand_in_adapt(model, params, xs[i], ys[i], loss_fn, inner_lr,
                                                                 steps, first_order), (xq[i],)), yq[i])
                  for i in range(xs.shape[0])]
        return sum(losses) / len(losses)

    model = small_mlp(gen, device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for p in model.parameters():  # stale gradients of an earlier step
        p.grad = torch.randn(p.shape, generator=gen, dtype=F64).to(device)
    tasks = f64_tasks(sub_free_tasks(gen, 2, 5, 5), device)
    with substitute(sub, maml_loss=stand_in_loss):
        value = sub.maml_step(model, opt, tasks, 0.05, steps=2, first_order=True)
    ok = bool(isinstance(value, float))
    assert ok, "maml_step returns the meta-loss as a Python float (loss.item())"
    observe("meta-loss", value)
    for k, v in model.named_parameters():
        observe(f"{k} after the step", v)


@pytest.mark.question("train")
def test_proto_loss(sub, observe, device, gen):
    """one episode: cross-entropy and accuracy of the query set (with a trusted proto_logits)"""

    def stand_in_logits(support_emb, support_labels, query_emb, n_way):
        protos = torch.stack([support_emb[support_labels == c].mean(dim=0) for c in range(n_way)])
        return -torch.cdist(query_emb, protos) ** 2

    embed = nn.Linear(6, 3).to(F64)
    with torch.no_grad():
        embed.weight.copy_(torch.randn(3, 6, generator=gen, dtype=F64))
        embed.bias.zero_()
    embed = embed.to(device)
    xs = torch.randn(6, 6, generator=gen, dtype=F64).to(device)
    ys = torch.tensor([0, 1, 2, 0, 1, 2]).to(device)
    xq = torch.randn(8, 6, generator=gen, dtype=F64).to(device)
    yq = torch.tensor([0, 1, 2, 0, 1, 2, 1, 1]).to(device)
    with substitute(sub, proto_logits=stand_in_logits):
        loss, accuracy = sub.proto_loss(embed, xs, ys, xq, yq, 3)
    observe("loss", loss)
    observe("accuracy", torch.as_tensor(accuracy, dtype=F64))
    observe("d loss / d weight", torch.autograd.grad(loss, embed.weight)[0])

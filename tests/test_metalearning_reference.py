"""The metalearning reference solution against independent oracles.

- MAML's meta-gradient against its closed form on linear regression (second- and first-order, float64,
  one and several inner steps), and against a hand-unrolled autograd computation on a small MLP;
- inner_adapt against a manual SGD loop with torch.optim.SGD on a copy of the model;
- proto_logits against torch.cdist and a loop over queries and classes (hypothesis over shapes);
- sample_sinusoid_tasks: the generator order (replayed with torch.rand) and the task statistics;
- the integration budget of the hidden `train` test: MAML clears the threshold, plain multi-task
  pretraining with the same budget does not, and neither does a model that ignores its input.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import functional_call

from autograder.manifest import load_assignment
from autograder.notebook import reference_module

F64 = torch.float64


@pytest.fixture(scope="module")
def ref():
    return reference_module("metalearning")


def mlp(seed, hidden=8):
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1)).to(F64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=F64))
    return model


def leaves(model):
    return {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}


def f64(tasks):
    return tuple(t.to(F64) for t in tasks)


# --------------------------------------------------------------------------- MAML, closed form


@pytest.mark.parametrize("steps", [1, 2, 4])
@pytest.mark.parametrize("first_order", [False, True])
def test_meta_gradient_linear_regression_closed_form(ref, steps, first_order):
    """theta' = (I - a A) theta + a b after each step (A = 2/K Phi^T Phi, b = 2/K Phi^T y), so
    d theta'/d theta = (I - a A)^steps and the meta-gradient is its transpose times grad L_q(theta')."""
    model = nn.Linear(1, 1).to(F64)
    params = leaves(model)
    tasks = f64(ref.sample_sinusoid_tasks(3, 6, 9, torch.Generator().manual_seed(steps)))
    alpha = 0.03
    loss = ref.maml_loss(model, params, tasks, F.mse_loss, alpha, steps=steps, first_order=first_order)
    g = torch.autograd.grad(loss, [params["weight"], params["bias"]])
    got = torch.cat([g[0].reshape(-1), g[1]])
    w = torch.cat([params["weight"].detach().reshape(-1), params["bias"].detach()])
    want = torch.zeros(2, dtype=F64)
    for i in range(3):
        Ps = torch.cat([tasks[0][i], torch.ones(6, 1, dtype=F64)], dim=1)
        Pq = torch.cat([tasks[2][i], torch.ones(9, 1, dtype=F64)], dim=1)
        A, b = 2 / 6 * Ps.T @ Ps, 2 / 6 * Ps.T @ tasks[1][i, :, 0]
        M = torch.eye(2, dtype=F64) - alpha * A
        wi = w.clone()
        for _ in range(steps):
            wi = M @ wi + alpha * b
        grad_q = 2 / 9 * Pq.T @ (Pq @ wi - tasks[3][i, :, 0])
        J = torch.eye(2, dtype=F64) if first_order else torch.linalg.matrix_power(M, steps)
        want += J.T @ grad_q / 3
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_meta_gradient_hand_unrolled_mlp(ref):
    """Two inner steps on a tanh MLP, unrolled by hand with autograd (create_graph only in second order)."""
    model = mlp(0)
    params = leaves(model)
    tasks = f64(ref.sample_sinusoid_tasks(2, 5, 7, torch.Generator().manual_seed(1)))
    for first_order in (False, True):
        loss = ref.maml_loss(model, params, tasks, F.mse_loss, 0.1, steps=2, first_order=first_order)
        got = torch.autograd.grad(loss, list(params.values()))
        total = 0.0
        for i in range(2):
            w = [params[k] for k in params]
            for _ in range(2):
                W1, b1, W2, b2 = w
                pred = torch.tanh(tasks[0][i] @ W1.T + b1) @ W2.T + b2
                grads = torch.autograd.grad(((pred - tasks[1][i]) ** 2).mean(), w, create_graph=not first_order)
                w = [p - 0.1 * gr for p, gr in zip(w, grads)]
            W1, b1, W2, b2 = w
            pred_q = torch.tanh(tasks[2][i] @ W1.T + b1) @ W2.T + b2
            total = total + ((pred_q - tasks[3][i]) ** 2).mean()
        want = torch.autograd.grad(total / 2, list(params.values()))
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_inner_adapt_matches_torch_sgd_and_leaves_params(ref):
    model = mlp(2)
    params = {k: v + 0.2 for k, v in leaves(model).items()}  # not the model's own weights
    before = {k: v.detach().clone() for k, v in params.items()}
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(6, 1, generator=g, dtype=F64), torch.randn(6, 1, generator=g, dtype=F64)
    twin = copy.deepcopy(model)
    with torch.no_grad():
        for k, p in twin.named_parameters():
            p.copy_(params[k])
    opt = torch.optim.SGD(twin.parameters(), lr=0.15)
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(twin(x), y).backward()
        opt.step()
    for first_order in (False, True):
        adapted = ref.inner_adapt(model, params, x, y, F.mse_loss, 0.15, steps=3, first_order=first_order)
        for k, p in twin.named_parameters():
            torch.testing.assert_close(adapted[k].detach(), p.detach(), rtol=1e-12, atol=1e-12)
        for k in params:
            assert torch.equal(params[k].detach(), before[k])


def test_first_order_gradient_is_query_gradient_at_adapted_params(ref):
    """FOMAML: d L_q(theta') / d theta equals grad L_q evaluated at theta' (identity Jacobian)."""
    model = mlp(4)
    params = leaves(model)
    g = torch.Generator().manual_seed(5)
    x, y, xq, yq = (torch.randn(5, 1, generator=g, dtype=F64) for _ in range(4))
    adapted = ref.inner_adapt(model, params, x, y, F.mse_loss, 0.1, steps=2, first_order=True)
    got = torch.autograd.grad(F.mse_loss(functional_call(model, adapted, (xq,)), yq), list(params.values()))
    at = {k: v.detach().requires_grad_() for k, v in adapted.items()}
    want = torch.autograd.grad(F.mse_loss(functional_call(model, at, (xq,)), yq), list(at.values()))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- prototypes


@settings(deadline=None, max_examples=30)
@given(n_way=st.integers(1, 5), extra=st.lists(st.integers(0, 3), min_size=5, max_size=5), Q=st.integers(1, 6),
       D=st.integers(1, 7), seed=st.integers(0, 2**31 - 1))
def test_proto_logits_against_cdist_and_loop(ref, n_way, extra, Q, D, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.cat([torch.full((1 + extra[c],), c) for c in range(n_way)])
    labels = labels[torch.randperm(len(labels), generator=g)]
    support = torch.randn(len(labels), D, generator=g, dtype=F64)
    query = torch.randn(Q, D, generator=g, dtype=F64)
    logits = ref.proto_logits(support, labels, query, n_way)
    protos = torch.stack([support[labels == c].mean(dim=0) for c in range(n_way)])
    torch.testing.assert_close(logits, -torch.cdist(query, protos) ** 2, rtol=1e-9, atol=1e-9)
    loop = torch.tensor([[-sum((query[q, d] - protos[c, d]).item() ** 2 for d in range(D)) for c in range(n_way)]
                         for q in range(Q)], dtype=F64)
    torch.testing.assert_close(logits, loop, rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- tasks


def test_sinusoid_generator_order_and_statistics(ref):
    g = torch.Generator().manual_seed(7)
    state = g.get_state()
    T, K, Kq = 4000, 2, 3
    xs, ys, xq, yq = ref.sample_sinusoid_tasks(T, K, Kq, g)
    replay = torch.Generator()
    replay.set_state(state)
    amp = 0.1 + 4.9 * torch.rand(T, generator=replay)
    phase = math.pi * torch.rand(T, generator=replay)
    torch.testing.assert_close(xs, -5 + 10 * torch.rand(T, K, 1, generator=replay), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(xq, -5 + 10 * torch.rand(T, Kq, 1, generator=replay), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(ys, amp.view(-1, 1, 1) * torch.sin(xs + phase.view(-1, 1, 1)), rtol=1e-5, atol=1e-5)
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=replay))
    assert abs(amp.mean() - 2.55) < 0.05 and abs(phase.mean() - math.pi / 2) < 0.05
    x = torch.cat([xs, xq], 1)
    assert x.min() >= -5 and x.max() <= 5 and abs(x.mean()) < 0.1
    assert (ys.abs() <= 5).all() and xs.dtype == torch.float32


# --------------------------------------------------------------------------- the integration budget


def _hidden_train_module():
    from autograder.collect import load_test_module

    path = load_assignment("metalearning").hidden_tests / "test_train.py"
    return load_test_module(path, "autograder_tests.metalearning.reference_budget")


def test_pretraining_and_an_input_blind_model_miss_the_maml_threshold(ref):
    """The hidden integration test's threshold separates MAML from the baselines with the same budget."""
    T = _hidden_train_module()

    def fresh_mse(model):
        fresh = T.sine_tasks(100, torch.Generator().manual_seed(99))
        return ref.maml_loss(model, dict(model.named_parameters()), fresh, F.mse_loss, T.INNER_LR, 1, True).item()

    model = T.sine_net(torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(model.parameters(), lr=T.META_LR)
    data = torch.Generator().manual_seed(11)
    for _ in range(T.META_STEPS):
        ref.maml_step(model, opt, T.sine_tasks(T.META_BATCH, data), T.INNER_LR)
    maml = fresh_mse(model)

    pre = T.sine_net(torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(pre.parameters(), lr=T.META_LR)
    data = torch.Generator().manual_seed(11)
    for _ in range(T.META_STEPS):
        xs, ys, xq, yq = T.sine_tasks(T.META_BATCH, data)
        loss = F.mse_loss(pre(torch.cat([xs, xq], 1)), torch.cat([ys, yq], 1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    pretrained = fresh_mse(pre)

    class Blind(nn.Module):  # ignores x: one learned constant
        def __init__(self):
            super().__init__()
            self.c = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return self.c.expand(x.shape[0], 1)

    blind = fresh_mse(Blind())
    assert maml <= T.MAML_THRESHOLD - 0.4, maml
    assert pretrained > T.MAML_THRESHOLD + 0.4, pretrained
    assert blind > T.MAML_THRESHOLD + 0.4, blind

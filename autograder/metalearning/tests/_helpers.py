"""Input makers and trusted stand-ins shared by the metalearning hidden tests (not a test file: the
grader collects only test_*.py). Each test file loads this file with ``load_helpers(__file__)``,
which registers it as trusted without making it importable by name.

- ``mlp``: a small float64 MLP with weights from a generator; ``leaf_params``: its parameters as
  fresh leaves; ``moved_params``: meta-parameters that differ from the model's own weights.
- ``tasks``: sinusoid tasks drawn by the tests (never by the submission's sampler).
- ``trusted_adapt`` / ``trusted_maml_loss``: MAML by another route (``torch.func.grad``).
- ``linear_meta_gradient``: the closed-form MAML meta-gradient of linear regression.
"""

import math

import torch
import torch.nn as nn
from torch.func import functional_call

F64 = torch.float64


def mlp(gen, device, hidden=8, act=nn.Tanh, dtype=F64):
    """A 1-hidden-1 MLP whose weights come from ``gen`` (smooth activation: a non-zero Hessian)."""
    model = nn.Sequential(nn.Linear(1, hidden), act(), nn.Linear(hidden, 1)).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=F64).to(dtype))
    return model.to(device)


def leaf_params(model):
    return {k: v.detach().clone().requires_grad_() for k, v in model.named_parameters()}


def moved_params(model, gen, scale=0.3):
    """Leaves that differ from the model's own weights: adaptation must start from these."""
    return {k: (v.detach() + scale * torch.randn(v.shape, generator=gen, dtype=F64).to(v)).requires_grad_()
            for k, v in model.named_parameters()}


def tasks(gen, T, K, Kq, device, dtype=F64):
    amp = torch.empty(T, 1, 1, dtype=F64).uniform_(0.1, 5.0, generator=gen)
    phase = torch.empty(T, 1, 1, dtype=F64).uniform_(0.0, math.pi, generator=gen)
    xs = torch.empty(T, K, 1, dtype=F64).uniform_(-5.0, 5.0, generator=gen)
    xq = torch.empty(T, Kq, 1, dtype=F64).uniform_(-5.0, 5.0, generator=gen)
    out = (xs, amp * torch.sin(xs + phase), xq, amp * torch.sin(xq + phase))
    return tuple(t.to(dtype).to(device) for t in out)


def trusted_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    """MAML's inner loop with torch.func.grad (the tests' own)."""
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


def trusted_maml_loss(model, params, tasks, loss_fn, inner_lr, steps=1, first_order=False):
    xs, ys, xq, yq = tasks
    total = 0.0
    for i in range(xs.shape[0]):
        adapted = trusted_adapt(model, params, xs[i], ys[i], loss_fn, inner_lr, steps, first_order)
        total = total + loss_fn(functional_call(model, adapted, (xq[i],)), yq[i])
    return total / xs.shape[0]


def features(x):
    """(K, 1) -> (K, 2): [x, 1], the design matrix of nn.Linear(1, 1)."""
    return torch.cat([x, torch.ones_like(x)], dim=1)


def linear_meta_gradient(w, tasks, alpha, steps, first_order):
    """Closed-form meta-gradient of MSE linear regression: w = (slope, intercept).

    Inner step: w <- w - alpha (2/K) Phi_s^T (Phi_s w - y_s), Jacobian J = I - alpha (2/K) Phi_s^T Phi_s
    (I for first-order); meta-gradient = mean over tasks of J^steps (2/Kq) Phi_q^T (Phi_q w' - y_q).
    """
    xs, ys, xq, yq = tasks
    total = torch.zeros(2, dtype=w.dtype, device=w.device)
    for i in range(xs.shape[0]):
        Ps, Pq = features(xs[i]), features(xq[i])
        K, Kq = Ps.shape[0], Pq.shape[0]
        wi = w.clone()
        for _ in range(steps):
            wi = wi - alpha * 2 / K * Ps.T @ (Ps @ wi - ys[i, :, 0])
        eye = torch.eye(2, dtype=w.dtype, device=w.device)
        J = eye if first_order else eye - alpha * 2 / K * Ps.T @ Ps
        g = 2 / Kq * Pq.T @ (Pq @ wi - yq[i, :, 0])
        for _ in range(steps):
            g = J @ g  # J is symmetric and the same at every step (a quadratic loss)
        total = total + g
    return total / xs.shape[0]


def check_untouched(params, before, expect_equal, who):
    for k in params:
        expect_equal(params[k].detach(), before[k], f"{who} must not modify the given params ({k}): build new tensors")

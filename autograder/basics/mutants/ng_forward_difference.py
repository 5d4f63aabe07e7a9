# MUTANT: numerical_gradient
# WHY: a one-sided difference (error of order h) is used instead of the centred one
# %%
# GRADED: numerical_gradient
import itertools

import torch


def numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    f0 = float(f(x))
    for idx in itertools.product(*(range(n) for n in x.shape)):
        old = x[idx].item()
        x[idx] = old + h
        grad[idx] = (float(f(x)) - f0) / h
        x[idx] = old
    return grad


def rel_error(a, b):
    a, b = a.to(torch.float64), b.to(torch.float64)
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max().item()

# GRADED: adam
import math

import torch


def update_moments(m, v, grad, beta1, beta2):
    m.mul_(beta1).add_((1 - beta1) * grad)
    v.mul_(beta2).add_((1 - beta2) * grad * grad)


def efficient_step_size(lr, beta1, beta2, t):
    sqrt_bc2 = math.sqrt(1 - beta2**t)
    return lr * sqrt_bc2 / (1 - beta1**t), sqrt_bc2


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1) and, with decoupled=True, AdamW.

    Uses the "efficient" form of Algorithm 1: the bias corrections folded into the step size,
    with eps scaled by sqrt(1 - beta2**t) so that it still sits after the sqrt of v_hat.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # Validate the arguments: raise ValueError for lr < 0, eps < 0, weight_decay < 0,
        # and betas outside [0, 1).
        if lr < 0:
            raise ValueError("bad lr")
        if eps < 0:
            raise ValueError("bad eps")
        if weight_decay < 0:
            raise ValueError("bad weight_decay")
        beta1, beta2 = betas
        if beta1 < 0 or beta1 >= 1 or beta2 < 0 or beta2 >= 1:
            raise ValueError("bad betas")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                elif group["weight_decay"]:
                    grad = grad + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
                update_moments(m, v, grad, beta1, beta2)
                step_size, sqrt_bc2 = efficient_step_size(group["lr"], beta1, beta2, t)
                eps_hat = group["eps"] * sqrt_bc2
                p.addcdiv_(m, v.sqrt().add_(eps_hat), value=-step_size)
        return loss

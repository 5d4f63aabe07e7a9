# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0:
            raise ValueError("lr, eps and weight_decay must be >= 0")
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError("betas must be in [0, 1)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
                beta1, beta2 = group["betas"]
                state = self.state[p]
                if "exp_avg" not in state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                t = state["step"]
                if group["decoupled"]:
                    p.mul_(1.0 - lr * wd)
                elif wd > 0:
                    grad = grad + wd * p
                state["exp_avg"].lerp_(grad, 1.0 - beta1)
                state["exp_avg_sq"].mul_(beta2).add_(grad.square(), alpha=1.0 - beta2)
                denom = (state["exp_avg_sq"] / (1.0 - beta2**t)).sqrt().add_(eps)
                p.add_(state["exp_avg"] / (1.0 - beta1**t) / denom, alpha=-lr)
        return loss

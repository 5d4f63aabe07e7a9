# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # Validate the arguments: raise ValueError for lr < 0, eps < 0, weight_decay < 0,
        # and betas outside [0, 1).
        if lr < 0:
            raise ValueError("Adam: lr < 0")
        if eps < 0:
            raise ValueError("Adam: eps < 0")
        if weight_decay < 0:
            raise ValueError("Adam: weight_decay < 0")
        if betas[0] < 0 or betas[0] >= 1:
            raise ValueError("Adam: beta1 outside [0, 1)")
        if betas[1] < 0 or betas[1] >= 1:
            raise ValueError("Adam: beta2 outside [0, 1)")
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
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                state = self.state[p]
                state.setdefault("step", 0)
                state.setdefault("exp_avg", torch.zeros_like(p.data))
                state.setdefault("exp_avg_sq", torch.zeros_like(p.data))
                state["step"] += 1
                lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
                beta1, beta2 = group["betas"]
                if wd and not group["decoupled"]:
                    g = g + wd * p.data
                state["exp_avg"].mul_(beta1).add_(g * (1 - beta1))
                state["exp_avg_sq"].mul_(beta2).add_(g.pow(2) * (1 - beta2))
                m_hat = state["exp_avg"] / (1 - beta1 ** state["step"])
                v_hat = state["exp_avg_sq"] / (1 - beta2 ** state["step"])
                update = m_hat / (v_hat.sqrt() + eps)
                if group["decoupled"]:
                    update = update + wd * p.data
                p.data.add_(-lr * update)
        return loss

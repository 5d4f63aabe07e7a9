# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0:
            raise ValueError(f"lr={lr} < 0")
        if eps < 0:
            raise ValueError(f"eps={eps} < 0")
        if weight_decay < 0:
            raise ValueError(f"weight_decay={weight_decay} < 0")
        if any(not 0 <= b < 1 for b in betas):
            raise ValueError(f"betas={betas}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)
        self.t = 0

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        self.t += 1
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] = self.t
                g = p.grad.clone()
                if not group["decoupled"]:
                    g += group["weight_decay"] * p
                else:
                    p *= 1 - group["lr"] * group["weight_decay"]
                state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
                state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
                mh = state["exp_avg"] / (1 - b1**self.t)
                vh = state["exp_avg_sq"] / (1 - b2**self.t)
                p -= group["lr"] * mh / (torch.sqrt(vh) + group["eps"])
        return loss

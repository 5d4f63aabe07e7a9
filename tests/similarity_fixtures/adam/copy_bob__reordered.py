# GRADED: adam
import torch


def _check_nonneg(name, value):
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")


class Adam(torch.optim.Optimizer):
    """Adam and AdamW (decoupled=True)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        for b in betas:
            if b < 0 or b >= 1:
                raise ValueError(f"beta must be in [0, 1), got {b}")
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("eps", eps)
        _check_nonneg("lr", lr)
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
            b1, b2 = group["betas"]
            lr = group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if "step" not in st:
                    st["exp_avg_sq"] = torch.zeros_like(p)
                    st["exp_avg"] = torch.zeros_like(p)
                    st["step"] = 0
                g = p.grad
                st["step"] = st["step"] + 1
                if group["decoupled"]:
                    p.mul_(1 - lr * group["weight_decay"])
                else:
                    g = g + group["weight_decay"] * p
                t = st["step"]
                v = b2 * st["exp_avg_sq"] + (1 - b2) * g * g
                m = b1 * st["exp_avg"] + (1 - b1) * g
                v_hat = v / (1 - b2**t)
                st["exp_avg_sq"] = v
                m_hat = m / (1 - b1**t)
                st["exp_avg"] = m
                p.sub_(lr * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss

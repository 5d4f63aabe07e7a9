# VARIANT: adam
# WHY: every tensor is recomputed out of place and stored back in the state (m = b1*m + (1-b1)*g,
#      v = v.lerp(g*g, 1-b2)); the step count read with state.get; the new parameter is written in one expression
#      p.copy_(p * (1 - lr*wd) - lr * m_hat / (torch.sqrt(v_hat) + eps)) which, for AdamW, decays the old p
#      exactly as "shrink before the update" does; the L2 gradient written as g + wd * p
# %%
# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    """Adam and, with decoupled=True, AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0:
            raise ValueError("invalid lr")
        if eps < 0:
            raise ValueError("invalid eps")
        if weight_decay < 0:
            raise ValueError("invalid weight_decay")
        if any(not (0.0 <= b < 1.0) for b in betas):
            raise ValueError("invalid betas")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                s = self.state[p]
                t = s.get("step", 0) + 1
                m = s.get("exp_avg", torch.zeros_like(p))
                v = s.get("exp_avg_sq", torch.zeros_like(p))
                g = p.grad if group["decoupled"] else p.grad + wd * p
                m = b1 * m + (1 - b1) * g
                v = v.lerp(g * g, 1 - b2)
                s["step"], s["exp_avg"], s["exp_avg_sq"] = t, m, v
                m_hat = m / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                shrink = 1 - lr * wd if group["decoupled"] else 1.0
                p.copy_(p * shrink - lr * m_hat / (torch.sqrt(v_hat) + eps))
        return loss

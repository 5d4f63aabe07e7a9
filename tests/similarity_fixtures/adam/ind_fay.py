# GRADED: adam
import torch


def adam_direction(m, v, t, beta1, beta2, eps):
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return m_hat / (torch.sqrt(v_hat) + eps)


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if min(lr, eps, weight_decay) < 0:
            raise ValueError("negative lr, eps or weight_decay")
        if any(b < 0 or b >= 1 for b in betas):
            raise ValueError("each beta must lie in [0, 1)")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            beta1, beta2 = group["betas"]
            for p in filter(lambda q: q.grad is not None, group["params"]):
                s = self.state[p]
                t = s.get("step", 0) + 1
                g = p.grad if group["decoupled"] else p.grad + wd * p
                m = s.get("exp_avg", torch.zeros_like(p)) * beta1 + g * (1 - beta1)
                v = s.get("exp_avg_sq", torch.zeros_like(p)) * beta2 + g.pow(2) * (1 - beta2)
                s.update({"step": t, "exp_avg": m, "exp_avg_sq": v})
                new_p = p * (1 - lr * wd) if group["decoupled"] else p
                p.copy_(new_p - lr * adam_direction(m, v, t, beta1, beta2, eps))
        return loss

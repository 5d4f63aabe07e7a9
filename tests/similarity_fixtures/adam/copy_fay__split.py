# GRADED: adam
import torch


def adam_direction(m, v, t, beta1, beta2, eps):
    correction1 = 1 - beta1**t
    correction2 = 1 - beta2**t
    m_hat = m / correction1
    v_hat = v / correction2
    denominator = torch.sqrt(v_hat) + eps
    return m_hat / denominator


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        smallest = min(lr, eps, weight_decay)
        if smallest < 0:
            raise ValueError("negative lr, eps or weight_decay")
        if any(b < 0 or b >= 1 for b in betas):
            raise ValueError("each beta must lie in [0, 1)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

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
                previous = s.get("step", 0)
                t = previous + 1
                g = p.grad if group["decoupled"] else p.grad + wd * p
                old_m = s.get("exp_avg", torch.zeros_like(p))
                old_v = s.get("exp_avg_sq", torch.zeros_like(p))
                kept_m = old_m * beta1
                new_m = g * (1 - beta1)
                m = kept_m + new_m
                g2 = g.pow(2)
                v = old_v * beta2 + g2 * (1 - beta2)
                s.update({"step": t, "exp_avg": m, "exp_avg_sq": v})
                new_p = p * (1 - lr * wd) if group["decoupled"] else p
                direction = adam_direction(m, v, t, beta1, beta2, eps)
                delta = lr * direction
                p.copy_(new_p - delta)
        return loss

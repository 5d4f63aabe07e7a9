# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1) and, with decoupled=True, AdamW.

        if decoupled: p = p * (1 - lr * weight_decay)      else: g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g                   v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)                         v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    t is the per-parameter step count self.state[p]["step"] (1 on the first update).
    State per parameter: "step" (int), "exp_avg" (m) and "exp_avg_sq" (v), each shaped like p.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # Validate the arguments: raise ValueError for lr < 0, eps < 0, weight_decay < 0,
        # and betas outside [0, 1).
        if min(lr, eps, weight_decay) < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError("Adam: invalid arguments")
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
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                state = self.state[w]
                t = state["step"] = state.get("step", 0) + 1
                if "exp_avg" not in state:
                    state["exp_avg"] = torch.zeros_like(w)
                    state["exp_avg_sq"] = torch.zeros_like(w)
                if group["decoupled"]:
                    w.mul_(1 - wd)
                else:
                    g = g + wd * w
                state["exp_avg"].lerp_(g, 1 - beta1)
                state["exp_avg_sq"].lerp_(g * g, 1 - beta2)
                step = lr / (1 - beta1**t)
                w.addcdiv_(state["exp_avg"], (state["exp_avg_sq"] / (1 - beta2**t)).sqrt() + eps, value=-step)
        return loss

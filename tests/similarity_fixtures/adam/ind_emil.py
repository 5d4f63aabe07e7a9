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
        for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            if value < 0:
                raise ValueError(f"invalid {name}: {value}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid betas: {betas}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(state, p):
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)

    def _update(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            self._init_state(state, p)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        g = p.grad
        if group["decoupled"]:
            p.mul_(1 - group["lr"] * group["weight_decay"])
        else:
            g = g.add(p, alpha=group["weight_decay"])
        m = state["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)
        v = state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
        corr1 = 1 - beta1 ** state["step"]
        corr2 = 1 - beta2 ** state["step"]
        p.addcdiv_(m / corr1, torch.sqrt(v / corr2) + group["eps"], value=-group["lr"])

    @torch.no_grad()
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, group)
        return loss

# GRADED: adam
import torch


def _bias_corrected(avg, beta, t):
    return avg / (1.0 - beta**t)


class Adam(torch.optim.Optimizer):
    """Adam, and AdamW when decoupled is set."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError("betas must be in [0, 1)")
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0:
            raise ValueError("lr, eps and weight_decay must be >= 0")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for pg in self.param_groups:
            for param in pg["params"]:
                d = param.grad
                if d is None:
                    continue
                b1, b2 = pg["betas"]
                rate, eps, decay = pg["lr"], pg["eps"], pg["weight_decay"]
                s = self.state[param]
                if "exp_avg" not in s:
                    s.update(step=0, exp_avg=torch.zeros_like(param), exp_avg_sq=torch.zeros_like(param))
                if pg["decoupled"]:
                    param.mul_(1.0 - rate * decay)
                elif decay > 0:
                    d = d + decay * param
                s["step"] += 1
                n = s["step"]
                s["exp_avg_sq"].mul_(b2).add_(d.square(), alpha=1.0 - b2)
                s["exp_avg"].lerp_(d, 1.0 - b1)
                v_hat = _bias_corrected(s["exp_avg_sq"], b2, n)
                denominator = v_hat.sqrt().add_(eps)
                m_hat = _bias_corrected(s["exp_avg"], b1, n)
                ratio = m_hat / denominator
                param.add_(ratio, alpha=-rate)
        return loss

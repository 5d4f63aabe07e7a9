# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # Validate the arguments: raise ValueError for lr < 0, eps < 0, weight_decay < 0,
        # and betas outside [0, 1).
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError("invalid hyperparameter")
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
            for param in group["params"]:
                if param.grad is None:
                    continue
                s = self.state[param]
                if not s:
                    s["step"] = 0
                    s["exp_avg"] = torch.zeros_like(param)
                    s["exp_avg_sq"] = torch.zeros_like(param)
                s["step"] += 1
                grad = param.grad
                if group["decoupled"]:
                    param.mul_(1 - group["lr"] * group["weight_decay"])
                else:
                    grad = grad + group["weight_decay"] * param
                s["exp_avg"].mul_(b1).add_(grad, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                m_hat = s["exp_avg"] / (1 - b1 ** s["step"])
                v_hat = s["exp_avg_sq"] / (1 - b2 ** s["step"])
                param.addcdiv_(m_hat, (v_hat + group["eps"]).sqrt(), value=-group["lr"])
        return loss

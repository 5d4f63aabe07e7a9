# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1) and, with decoupled=True, AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # Validate the arguments: raise ValueError for lr < 0, eps < 0, weight_decay < 0,
        # and betas outside [0, 1).
        if lr < 0 or eps < 0:
            raise ValueError("lr and eps must be non-negative")
        if weight_decay < 0:
            raise ValueError("weight_decay must be non-negative")
        for i in range(2):
            if not 0 <= betas[i] < 1:
                raise ValueError(f"betas[{i}] must be in [0, 1)")
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
            active = [p for p in group["params"] if p.grad is not None]
            for p in active:
                st = self.state[p]
                if "step" not in st:
                    st["step"], st["exp_avg"], st["exp_avg_sq"] = 0, torch.zeros_like(p), torch.zeros_like(p)
            grads = [p.grad if group["decoupled"] else torch.add(p.grad, p, alpha=group["weight_decay"])
                     for p in active]
            for p, g in zip(active, grads):
                st = self.state[p]
                st["step"] += 1
                b1, b2 = group["betas"]
                st["exp_avg"] = torch.add(torch.mul(st["exp_avg"], b1), g, alpha=1 - b1)
                st["exp_avg_sq"] = torch.addcmul(torch.mul(st["exp_avg_sq"], b2), g, g, value=1 - b2)
                m_hat = torch.div(st["exp_avg"], 1 - b1 ** st["step"])
                v_hat = torch.div(st["exp_avg_sq"], 1 - b2 ** st["step"])
                if group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                p.sub_(group["lr"] * torch.div(m_hat, torch.add(torch.sqrt(v_hat), group["eps"])))
        return loss

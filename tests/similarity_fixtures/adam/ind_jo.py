# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    """Adam and, with decoupled=True, AdamW (Loshchilov & Hutter)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        checks = {"lr": lr, "eps": eps, "weight_decay": weight_decay}
        bad = [k for k, val in checks.items() if val < 0]
        if bad:
            raise ValueError(f"negative {', '.join(bad)}")
        if not (0 <= min(betas) and max(betas) < 1):
            raise ValueError(f"betas {betas} not in [0, 1)")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        def moments(state, g, b1, b2):
            state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
            state["exp_avg_sq"].mul_(b2).add_(g * g, alpha=1 - b2)
            return state["exp_avg"], state["exp_avg_sq"]

        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state.update({"step": 0, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)})
                state["step"] += 1
                g = p.grad
                if not group["decoupled"]:
                    g = g + group["weight_decay"] * p
                m, v = moments(state, g, b1, b2)
                scale = group["lr"] / (1 - b1 ** state["step"])
                denom = torch.sqrt(v / (1 - b2 ** state["step"])) + group["eps"]
                if group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                p.addcdiv_(m, denom, value=-scale)
        return loss

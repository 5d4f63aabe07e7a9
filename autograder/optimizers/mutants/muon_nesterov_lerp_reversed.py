# MUTANT: muon
# WHY: blends the gradient and the momentum the wrong way round in the Nesterov look-ahead.
# %%
# GRADED: muon
import torch


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0):
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, weight_decay=weight_decay)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only handles 2-D parameters, got shape {tuple(p.shape)}")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(g)
                buf = state["momentum_buffer"]
                buf.lerp_(g, 1 - mu)
                update = buf.lerp(g, mu) if group["nesterov"] else buf
                O = newton_schulz(update, group["ns_steps"])  # noqa: F821 (defined in the newton_schulz cell)
                p.mul_(1 - lr * wd)
                p.add_(O, alpha=-lr * max(1, p.size(0) / p.size(1)) ** 0.5)
        return loss

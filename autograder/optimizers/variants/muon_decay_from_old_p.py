# VARIANT: muon
# WHY: buffer kept in place with mul_/add_(alpha=1-mu) instead of lerp_; Nesterov via torch.lerp(g, buf, mu);
#      the decoupled decay lr*wd*p taken from the old parameter and subtracted together with the
#      orthogonalised step in one sub_ (equal to p*(1 - lr*wd) - lr*s*O); the scale as
#      sqrt(max(rows, cols) / cols); parameters checked one by one with len(p.shape)
# %%
# GRADED: muon
import math

import torch


class Muon(torch.optim.Optimizer):
    """Muon: MomentUm Orthogonalized by Newton-Schulz, for 2-D (hidden) weight matrices."""

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr} (must be >= 0)")
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, weight_decay=weight_decay)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if len(p.shape) != 2:
                    raise ValueError(f"Muon needs matrices, got a parameter of shape {tuple(p.shape)}")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                mu = group["momentum"]
                state = self.state[p]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(p.grad)
                buf = state["momentum_buffer"]
                buf.mul_(mu).add_(p.grad, alpha=1 - mu)
                direction = torch.lerp(p.grad, buf, mu) if group["nesterov"] else buf
                O = newton_schulz(direction, steps=group["ns_steps"])  # noqa: F821 (newton_schulz cell)
                rows, cols = p.shape
                scale = math.sqrt(max(rows, cols) / cols)
                lr = group["lr"]
                p.sub_(lr * group["weight_decay"] * p + lr * scale * O)
        return loss

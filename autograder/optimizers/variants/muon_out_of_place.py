# VARIANT: muon
# WHY: the momentum average and the Nesterov mix written out (buf = mu*buf + (1-mu)*g stored as a new
#      tensor, update = (1-mu)*g + mu*buf) instead of lerp; the aspect scale as max(1, rows/cols) ** 0.5;
#      decay and step in one out-of-place expression p.copy_(p*(1 - lr*wd) - lr*scale*O); the 2-D check
#      runs over all groups with any(); newton_schulz called with its steps positionally
# %%
# GRADED: muon
import torch


class Muon(torch.optim.Optimizer):
    """Muon: MomentUm Orthogonalized by Newton-Schulz, for 2-D (hidden) weight matrices."""

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr} (must be >= 0)")
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, weight_decay=weight_decay)
        super().__init__(params, defaults)
        if any(p.dim() != 2 for group in self.param_groups for p in group["params"]):
            raise ValueError("Muon only takes 2-D parameters (weight matrices)")

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
                prev = state.get("momentum_buffer")
                if prev is None:
                    prev = torch.zeros_like(p)
                buf = mu * prev + (1 - mu) * g
                state["momentum_buffer"] = buf
                update = (1 - mu) * g + mu * buf if group["nesterov"] else buf
                O = newton_schulz(update, group["ns_steps"])  # noqa: F821 (defined in the newton_schulz cell)
                scale = max(1, p.shape[0] / p.shape[1]) ** 0.5
                p.copy_(p * (1 - lr * wd) - lr * scale * O)
        return loss

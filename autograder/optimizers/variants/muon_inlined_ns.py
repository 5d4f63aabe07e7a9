# VARIANT: muon
# WHY: does not call newton_schulz: the quintic iteration is inlined in a private helper (Frobenius
#      normalisation + eps, smaller Gram matrix, (a, b, c) = (3.4445, -4.7750, 2.0315), ns_steps iterations,
#      in the parameter's dtype); the buffer kept as a lerp average but the step counted in the state;
#      tall matrices handled by transposing the momentum before orthogonalising (aspect scale sqrt(rows/cols))
# %%
# GRADED: muon
import math

import torch


def _orthogonalise(M, steps, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = M / (M.norm() + eps)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X


class Muon(torch.optim.Optimizer):
    """Muon: MomentUm Orthogonalized by Newton-Schulz, for 2-D (hidden) weight matrices."""

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr} (must be >= 0)")
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, weight_decay=weight_decay)
        super().__init__(params, defaults)
        bad = [tuple(p.shape) for group in self.param_groups for p in group["params"] if p.ndim != 2]
        if bad:
            raise ValueError(f"Muon only handles 2-D parameters, got shapes {bad}")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, wd, k = group["lr"], group["momentum"], group["weight_decay"], group["ns_steps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                    state["step"] = 0
                state["step"] += 1
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - mu)
                u = p.grad.lerp(buf, mu) if group["nesterov"] else buf
                rows, cols = p.shape
                if rows > cols:
                    O = _orthogonalise(u.T, k).T
                    scale = math.sqrt(rows / cols)
                else:
                    O = _orthogonalise(u, k)
                    scale = 1.0
                p.mul_(1 - lr * wd).sub_(O, alpha=lr * scale)
        return loss

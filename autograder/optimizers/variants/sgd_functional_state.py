# VARIANT: sgd
# WHY: two passes per group (collect the parameters with gradients, then update); the buffer is rebuilt
#      out of place each step (state["momentum_buffer"] = torch.add(g, buf, alpha=mu)) with an explicit
#      per-parameter step counter deciding the first step; Nesterov written as torch.add(g, buf, alpha=mu);
#      the update goes through p.data.sub_(lr * d) instead of p.add_(d, alpha=-lr)
# %%
# GRADED: sgd
import torch


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        if lr < 0:
            raise ValueError("negative learning rate")
        if momentum < 0:
            raise ValueError("negative momentum")
        if weight_decay < 0:
            raise ValueError("negative weight decay")
        if nesterov and momentum <= 0:
            raise ValueError("nesterov requires momentum > 0")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay,
                                  "nesterov": nesterov})

    def _direction(self, p, group):
        g = p.grad
        if group["weight_decay"]:
            g = torch.add(g, p, alpha=group["weight_decay"])
        mu = group["momentum"]
        if not mu:
            return g
        state = self.state[p]
        state["step"] = state.get("step", 0) + 1
        if state["step"] == 1:
            buf = g.detach().clone()
        else:
            buf = torch.add(g, state["momentum_buffer"], alpha=mu)
        state["momentum_buffer"] = buf
        return torch.add(g, buf, alpha=mu) if group["nesterov"] else buf

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                live = [p for p in group["params"] if p.grad is not None]
                directions = [self._direction(p, group) for p in live]
                for p, d in zip(live, directions):
                    p.data.sub_(group["lr"] * d)
        return loss

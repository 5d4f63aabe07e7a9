# MUTANT: sgd
# WHY: applies weight decay to parameters that have no gradient, which should be left untouched.
# %%
# GRADED: sgd
import torch


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        if lr < 0.0:
            raise ValueError(f"invalid learning rate {lr}")
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum requires a momentum > 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                g = torch.zeros_like(p) if p.grad is None else p.grad
                g = g + wd * p
                if mu != 0:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = g.clone()
                    else:
                        state["buf"].mul_(mu).add_(g)
                    g = g + mu * state["buf"] if group["nesterov"] else state["buf"]
                p.add_(g, alpha=-lr)
        return loss

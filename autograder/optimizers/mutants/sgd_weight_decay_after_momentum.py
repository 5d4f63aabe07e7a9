# MUTANT: sgd
# WHY: adds weight decay to the step after the momentum instead of to the gradient before it.
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
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                mu = group["momentum"]
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.clone()
                    else:
                        state["momentum_buffer"].mul_(mu).add_(g)
                    buf = state["momentum_buffer"]
                    update = g + mu * buf if group["nesterov"] else buf
                else:
                    update = g
                update = update + group["weight_decay"] * p
                p.add_(update, alpha=-group["lr"])
        return loss

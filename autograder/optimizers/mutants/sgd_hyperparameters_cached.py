# MUTANT: sgd
# WHY: copies the learning rate and momentum once at construction, so later changes to the parameter groups (a
#   scheduler, per-group settings) are ignored.
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
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov

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
                g = p.grad + self.weight_decay * p
                if self.momentum != 0:
                    state = self.state[p]
                    if "buf" not in state:
                        state["buf"] = g.clone()
                    else:
                        state["buf"] = self.momentum * state["buf"] + g
                    g = g + self.momentum * state["buf"] if self.nesterov else state["buf"]
                p -= self.lr * g
        return loss

# VARIANT: sgd
# WHY: the momentum buffer starts as zeros and is always updated as buf = mu * buf + g (at step 1 that is
#      exactly g, like torch's clone); weight decay written as grad + wd * p; the parameter is updated out of
#      place with p.copy_(p - lr * d); validation checks written as one combined condition per argument
# %%
# GRADED: sgd
import torch


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value}")
        if nesterov and not momentum > 0:
            raise ValueError("nesterov needs a positive momentum")
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                d = grad + group["weight_decay"] * p  # new tensor, p.grad untouched
                mu = group["momentum"]
                if mu > 0:
                    st = self.state[p]
                    if "momentum_buffer" not in st:
                        st["momentum_buffer"] = torch.zeros_like(p)
                    buf = st["momentum_buffer"]
                    buf.mul_(mu).add_(d)  # step 1: 0 * mu + d = d
                    if group["nesterov"]:
                        d = d + mu * buf
                    else:
                        d = buf
                p.copy_(p - group["lr"] * d)
        return loss

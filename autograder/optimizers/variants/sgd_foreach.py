# VARIANT: sgd
# WHY: vectorised over each group with torch._foreach_* ops (like torch's foreach implementation);
#      buffers created lazily as clones of the first gradient; weight decay via _foreach_add(grads, params,
#      alpha=wd) (new tensors); the update via _foreach_add_(params, directions, alpha=-lr)
# %%
# GRADED: sgd
import torch


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        if min(lr, momentum, weight_decay) < 0:
            raise ValueError("lr, momentum and weight_decay must be >= 0")
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            wd, mu, lr = group["weight_decay"], group["momentum"], group["lr"]
            if wd != 0:
                grads = list(torch._foreach_add(grads, params, alpha=wd))
            if mu != 0:
                old = [p for p in params if "momentum_buffer" in self.state[p]]
                if old:
                    old_bufs = [self.state[p]["momentum_buffer"] for p in old]
                    old_grads = [g for p, g in zip(params, grads) if "momentum_buffer" in self.state[p]]
                    torch._foreach_mul_(old_bufs, mu)
                    torch._foreach_add_(old_bufs, old_grads)
                for p, g in zip(params, grads):
                    if "momentum_buffer" not in self.state[p]:
                        self.state[p]["momentum_buffer"] = torch.clone(g).detach()
                bufs = [self.state[p]["momentum_buffer"] for p in params]
                if group["nesterov"]:
                    grads = list(torch._foreach_add(grads, bufs, alpha=mu))
                else:
                    grads = bufs
            torch._foreach_add_(params, grads, alpha=-lr)
        return loss

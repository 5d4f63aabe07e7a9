# MUTANT: adam
# WHY: stores each parameter's moments by its position in its group, so parameters in different groups share and
#   overwrite each other's state.
# %%
# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))
        self.m, self.v, self.t = {}, {}, {}

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                g = p.grad
                if i not in self.m:
                    self.m[i] = torch.zeros_like(p)
                    self.v[i] = torch.zeros_like(p)
                    self.t[i] = 0
                self.t[i] += 1
                if group["decoupled"]:
                    p.mul_(1 - lr * wd)
                else:
                    g = g + wd * p
                self.m[i] = beta1 * self.m[i] + (1 - beta1) * g
                self.v[i] = beta2 * self.v[i] + (1 - beta2) * g * g
                m_hat = self.m[i] / (1 - beta1 ** self.t[i])
                v_hat = self.v[i] / (1 - beta2 ** self.t[i])
                p -= lr * m_hat / (v_hat.sqrt() + eps)
        return loss

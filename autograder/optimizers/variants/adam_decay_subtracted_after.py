# VARIANT: adam
# WHY: AdamW's decay term lr * wd * p is computed from the old p before the update but subtracted after
#      it (p_new = p - lr*u - lr*wd*p_old, equal to (1 - lr*wd) p - lr*u); state keyed on "step" and built
#      with p.new_zeros; the moments updated with out-of-place products added in place
#      (v.mul_(b2).add_((1-b2) * g * g)); eps added with torch.add after the sqrt of v_hat
# %%
# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    """Adam and, with decoupled=True, AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if not lr >= 0.0:
            raise ValueError(f"lr={lr}")
        if not eps >= 0.0:
            raise ValueError(f"eps={eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay={weight_decay}")
        for beta in betas:
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"betas={betas}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

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
                lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
                beta1, beta2 = group["betas"]
                state = self.state[p]
                if "step" not in state:
                    state["step"] = 0
                    state["exp_avg"] = p.new_zeros(p.shape)
                    state["exp_avg_sq"] = p.new_zeros(p.shape)
                state["step"] += 1
                t = state["step"]
                decay = None
                g = p.grad
                if group["decoupled"]:
                    decay = p.mul(lr * wd)  # from the old parameter
                else:
                    g = g + p * wd
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_((1 - beta1) * g)
                v.mul_(beta2).add_((1 - beta2) * g * g)
                m_hat = m.div(1 - beta1**t)
                v_hat = v.div(1 - beta2**t)
                p.sub_(lr * m_hat / torch.add(v_hat.sqrt(), eps))
                if decay is not None:
                    p.sub_(decay)
        return loss

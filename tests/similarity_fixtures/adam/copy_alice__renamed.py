# GRADED: adam
import math

import torch


class Adam(torch.optim.Optimizer):
    """My Adam. With decoupled=True it is AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # check everything first
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        hyper = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, hyper)

    @torch.no_grad()
    def step(self, closure=None):
        """One Adam step over all parameters."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for grp in self.param_groups:
            b_1, b_2 = grp["betas"]
            for weight in grp["params"]:
                if weight.grad is None:
                    continue  # nothing to do
                gradient = weight.grad
                st = self.state[weight]
                if len(st) == 0:  # first step for this weight
                    st["step"] = 0
                    st["exp_avg"] = torch.zeros_like(weight, memory_format=torch.preserve_format)
                    st["exp_avg_sq"] = torch.zeros_like(weight, memory_format=torch.preserve_format)
                first_moment, second_moment = st["exp_avg"], st["exp_avg_sq"]
                st["step"] += 1

                if grp["weight_decay"] != 0:
                    if grp["decoupled"]:
                        weight.mul_(1 - grp["lr"] * grp["weight_decay"])  # AdamW shrink
                    else:
                        gradient = gradient.add(weight, alpha=grp["weight_decay"])  # L2

                first_moment.mul_(b_1).add_(gradient, alpha=1 - b_1)
                second_moment.mul_(b_2).addcmul_(gradient, gradient, value=1 - b_2)
                bc1 = 1 - b_1 ** st["step"]
                bc2 = 1 - b_2 ** st["step"]
                lr_t = grp["lr"] / bc1
                denominator = (second_moment.sqrt() / math.sqrt(bc2)).add_(grp["eps"])
                weight.addcdiv_(first_moment, denominator, value=-lr_t)
        return loss

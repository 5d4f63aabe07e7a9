# VARIANT: flow_nll
# WHY: torch.distributions.Normal's log_prob for the base density
# %%
# GRADED: flow_nll

import torch


def flow_nll(flow_layers, x):
    z, total = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for layer in flow_layers:
        z, log_det = layer(z)
        total = total + log_det
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    base = torch.distributions.Normal(zero, torch.ones_like(zero))
    return -(base.log_prob(z).sum(-1) + total).mean()

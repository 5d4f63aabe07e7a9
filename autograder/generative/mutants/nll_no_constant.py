# MUTANT: flow_nll
# WHY: the normalising constant (D / 2) log(2 pi) of the Gaussian is missing
# %%
# GRADED: flow_nll

import torch


def flow_nll(flow_layers, x):
    z, total = x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for layer in flow_layers:
        z, log_det = layer(z)
        total = total + log_det
    log_pz = -0.5 * z.pow(2).sum(dim=-1)
    return -(log_pz + total).mean()

# VARIANT: pool
# a Python loop over the graphs with boolean masks
# %%
# GRADED: pool
import torch


def global_pool(x, batch, reduce="mean"):
    outs = []
    for b in range(int(batch.max()) + 1):
        rows = x[batch == b]
        if len(rows) == 0:
            outs.append(torch.zeros(x.shape[1], dtype=x.dtype, device=x.device))
        elif reduce == "sum":
            outs.append(rows.sum(0))
        elif reduce == "mean":
            outs.append(rows.mean(0))
        else:
            outs.append(rows.amax(0))
    return torch.stack(outs)

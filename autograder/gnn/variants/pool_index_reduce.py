# VARIANT: pool
# index_reduce for mean and amax, index_add for the sum
# %%
# GRADED: pool
import torch


def global_pool(x, batch, reduce="mean"):
    B = batch.max().item() + 1
    base = torch.zeros(B, x.size(1), dtype=x.dtype, device=x.device)
    if reduce == "sum":
        return base.index_add(0, batch, x)
    return base.index_reduce(0, batch, x, {"mean": "mean", "max": "amax"}[reduce], include_self=False)

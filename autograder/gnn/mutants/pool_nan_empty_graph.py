# MUTANT: pool
# WHY: a graph without nodes gets nan (mean) or -inf (max) instead of zeros
# CORNER: graphs without nodes
# %%
# GRADED: pool
import torch


def global_pool(x, batch, reduce="mean"):
    B = int(batch.max()) + 1
    if reduce == "max":
        out = x.new_full((B, x.shape[1]), float("-inf"))
        return out.scatter_reduce(0, batch.unsqueeze(-1).expand_as(x), x, reduce="amax", include_self=True)
    out = x.new_zeros(B, x.shape[1]).index_add(0, batch, x)
    if reduce == "sum":
        return out
    return out / torch.bincount(batch, minlength=B).to(x.dtype).unsqueeze(-1)

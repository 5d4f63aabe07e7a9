# MUTANT: pool
# WHY: the max also compares with the zeros the output starts from, so a negative maximum becomes 0
# %%
# GRADED: pool
import torch


def global_pool(x, batch, reduce="mean"):
    B = int(batch.max()) + 1
    out = x.new_zeros(B, x.shape[1])
    if reduce == "max":
        return out.scatter_reduce(0, batch.unsqueeze(-1).expand_as(x), x, reduce="amax", include_self=True)
    out = out.index_add(0, batch, x)
    if reduce == "sum":
        return out
    return out / torch.bincount(batch, minlength=B).clamp(min=1).to(x.dtype).unsqueeze(-1)

# MUTANT: pool
# WHY: the number of graphs is the number of distinct batch entries, so a graph without nodes shifts the rows
# CORNER: graphs without nodes
# %%
# GRADED: pool
import torch


def global_pool(x, batch, reduce="mean"):
    ids, inverse = torch.unique(batch, return_inverse=True)
    B = ids.numel()
    out = x.new_zeros(B, x.shape[1])
    if reduce == "max":
        return out.scatter_reduce(0, inverse.unsqueeze(-1).expand_as(x), x, reduce="amax", include_self=False)
    out = out.index_add(0, inverse, x)
    if reduce == "sum":
        return out
    return out / torch.bincount(inverse, minlength=B).to(x.dtype).unsqueeze(-1)

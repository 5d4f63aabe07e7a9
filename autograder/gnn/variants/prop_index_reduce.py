# VARIANT: propagate
# index_add_ for the sum, index_reduce for mean and amax (include_self=False)
# %%
# GRADED: propagate
import torch


def propagate(x, edge_index, edge_weight=None, reduce="sum"):
    src, dst = edge_index[0], edge_index[1]
    msg = x[src] if edge_weight is None else edge_weight[:, None] * x[src]
    out = torch.zeros(x.shape, dtype=x.dtype, device=x.device)
    if reduce == "sum":
        out.index_add_(0, dst, msg)
        return out
    return out.index_reduce(0, dst, msg, "mean" if reduce == "mean" else "amax", include_self=False)

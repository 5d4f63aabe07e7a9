# MUTANT: propagate
# WHY: the mean divides by the sum of the edge weights instead of the number of incoming edges
# %%
# GRADED: propagate
import torch


def propagate(x, edge_index, edge_weight=None, reduce="sum"):
    src, dst = edge_index[0], edge_index[1]
    w = torch.ones(src.shape[0], dtype=x.dtype, device=x.device) if edge_weight is None else edge_weight
    msg = x[src] * w.unsqueeze(-1)
    out = x.new_zeros(x.shape)
    if reduce == "sum":
        return out.index_add(0, dst, msg)
    if reduce == "mean":
        total = x.new_zeros(x.shape[0]).index_add(0, dst, w)
        total = torch.where(total == 0, torch.ones_like(total), total)
        return out.index_add(0, dst, msg) / total.unsqueeze(-1)
    return out.scatter_reduce(0, dst.unsqueeze(-1).expand_as(msg), msg, reduce="amax", include_self=False)

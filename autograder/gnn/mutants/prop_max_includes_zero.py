# MUTANT: propagate
# WHY: the max also compares with the zeros the output starts from, so a negative maximum becomes 0
# %%
# GRADED: propagate
import torch


def propagate(x, edge_index, edge_weight=None, reduce="sum"):
    src, dst = edge_index[0], edge_index[1]
    msg = x[src] if edge_weight is None else x[src] * edge_weight.unsqueeze(-1)
    out = x.new_zeros(x.shape)
    if reduce == "sum":
        return out.index_add(0, dst, msg)
    if reduce == "mean":
        count = torch.bincount(dst, minlength=x.shape[0]).clamp(min=1).to(x.dtype)
        return out.index_add(0, dst, msg) / count.unsqueeze(-1)
    return out.scatter_reduce(0, dst.unsqueeze(-1).expand_as(msg), msg, reduce="amax", include_self=True)

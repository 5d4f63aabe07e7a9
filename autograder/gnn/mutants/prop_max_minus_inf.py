# MUTANT: propagate
# WHY: the max of a node without incoming edges is -inf instead of zeros
# CORNER: nodes without incoming edges
# %%
# GRADED: propagate
import torch


def propagate(x, edge_index, edge_weight=None, reduce="sum"):
    src, dst = edge_index[0], edge_index[1]
    msg = x[src] if edge_weight is None else x[src] * edge_weight.unsqueeze(-1)
    if reduce == "sum":
        return x.new_zeros(x.shape).index_add(0, dst, msg)
    if reduce == "mean":
        count = torch.bincount(dst, minlength=x.shape[0]).clamp(min=1).to(x.dtype)
        return x.new_zeros(x.shape).index_add(0, dst, msg) / count.unsqueeze(-1)
    out = x.new_full(x.shape, float("-inf"))
    return out.scatter_reduce(0, dst.unsqueeze(-1).expand_as(msg), msg, reduce="amax", include_self=True)

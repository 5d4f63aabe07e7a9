# VARIANT: propagate
# scatter_reduce for every reduction (sum, mean and amax with include_self=False)
# %%
# GRADED: propagate
import torch


def propagate(x, edge_index, edge_weight=None, reduce="sum"):
    src, dst = edge_index
    msg = x.index_select(0, src)
    if edge_weight is not None:
        msg = msg * edge_weight.view(-1, 1)
    index = dst.view(-1, 1).expand(-1, x.shape[1])
    op = {"sum": "sum", "mean": "mean", "max": "amax"}[reduce]
    return torch.zeros_like(x).scatter_reduce(0, index, msg, reduce=op, include_self=False)

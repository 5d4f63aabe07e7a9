# VARIANT: propagate
# edges sorted by target, then torch.segment_reduce over the runs of each target; empty runs set to 0 by torch.where
# %%
# GRADED: propagate
import torch


def propagate(x, edge_index, edge_weight=None, reduce="sum"):
    n = x.shape[0]
    order = torch.argsort(edge_index[1], stable=True)
    src, dst = edge_index[0][order], edge_index[1][order]
    msg = x[src]
    if edge_weight is not None:
        msg = msg * edge_weight[order].unsqueeze(1)
    lengths = torch.bincount(dst, minlength=n)
    out = torch.segment_reduce(msg, reduce, lengths=lengths, axis=0, unsafe=True)  # (N, F); empty runs: 0, nan, -inf
    return torch.where((lengths > 0).unsqueeze(1), out, torch.zeros_like(out))

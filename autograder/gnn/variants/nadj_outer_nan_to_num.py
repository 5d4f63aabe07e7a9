# VARIANT: normalize_adjacency
# an outer product of rsqrt(d), infinities replaced afterwards, self-loops by fill_diagonal_ on a copy
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    m = adj.clone()
    if add_self_loops:
        m.fill_diagonal_(1.0)  # adj has no self-loops: its diagonal is zero
    r = torch.rsqrt(m.sum(dim=1))
    r = torch.nan_to_num(r, posinf=0.0)
    return m * torch.outer(r, r)

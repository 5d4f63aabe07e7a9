# MUTANT: normalize_adjacency
# WHY: only the rows are scaled by D^-1/2; the columns are left unscaled
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    deg = adj.sum(dim=1)
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv_sqrt.unsqueeze(1) * adj

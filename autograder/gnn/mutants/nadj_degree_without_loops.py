# MUTANT: normalize_adjacency
# WHY: the degrees are taken from A instead of A + I when the self-loops are added
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    deg = adj.sum(dim=1)
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

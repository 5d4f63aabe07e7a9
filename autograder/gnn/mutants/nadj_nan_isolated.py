# MUTANT: normalize_adjacency
# WHY: a node of degree 0 gets inf and nan (d^-1/2 of 0) instead of a zero row and column
# CORNER: isolated nodes without self-loops
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    inv_sqrt = adj.sum(dim=1).pow(-0.5)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

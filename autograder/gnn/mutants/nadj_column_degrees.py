# MUTANT: normalize_adjacency
# WHY: the degrees are column sums (edges leaving a node) instead of row sums (edges arriving at it)
# CORNER: directed graphs
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    deg = adj.sum(dim=0)
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

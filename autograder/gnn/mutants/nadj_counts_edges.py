# MUTANT: normalize_adjacency
# WHY: the degree counts the edges instead of summing their weights
# CORNER: weighted graphs
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    deg = (adj != 0).sum(dim=1).to(adj.dtype)
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

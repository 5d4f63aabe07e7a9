# MUTANT: normalize_adjacency
# WHY: the self-loops are added twice (A + 2I) when add_self_loops is True
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    if add_self_loops:
        eye = torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
        adj = adj + eye
        adj = adj + eye
    deg = adj.sum(dim=1)
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

# MUTANT: normalize_adjacency
# WHY: the self-loops are added even when add_self_loops is False
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    deg = adj.sum(dim=1)
    inv_sqrt = deg.pow(-0.5)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

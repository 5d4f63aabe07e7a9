# MUTANT: normalize_adjacency
# WHY: the matrix is normalised by rows only (D^-1 M, a random walk) instead of symmetrically by D^-1/2 on both sides
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[0], dtype=adj.dtype, device=adj.device)
    deg = adj.sum(dim=1)
    inv = torch.where(deg > 0, 1.0 / deg.clamp(min=1e-300), torch.zeros_like(deg))
    return inv.unsqueeze(1) * adj

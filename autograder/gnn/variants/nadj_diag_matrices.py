# VARIANT: normalize_adjacency
# D^-1/2 as diagonal matrices and two matrix products; zero degrees handled with torch.where
# %%
# GRADED: normalize_adjacency
import torch


def normalize_adjacency(adj, add_self_loops=True):
    n = adj.shape[0]
    m = adj + torch.eye(n, dtype=adj.dtype, device=adj.device) if add_self_loops else adj.clone()
    d = m.sum(-1)
    safe = torch.where(d > 0, d, torch.ones_like(d))
    d_inv_sqrt = torch.diag(torch.where(d > 0, 1.0 / torch.sqrt(safe), torch.zeros_like(d)))
    return d_inv_sqrt @ m @ d_inv_sqrt

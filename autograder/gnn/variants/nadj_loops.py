# VARIANT: normalize_adjacency
# Python loops over the nonzero entries, float64 throughout, cast back at the end
# %%
# GRADED: normalize_adjacency
import math

import torch


def normalize_adjacency(adj, add_self_loops=True):
    n = adj.shape[0]
    m = adj.detach().cpu().double().tolist()
    if add_self_loops:
        for i in range(n):
            m[i][i] += 1.0
    deg = [sum(row) for row in m]
    out = [[m[i][j] / math.sqrt(deg[i] * deg[j]) if m[i][j] != 0 else 0.0 for j in range(n)] for i in range(n)]
    return torch.tensor(out, dtype=torch.float64).to(dtype=adj.dtype, device=adj.device)

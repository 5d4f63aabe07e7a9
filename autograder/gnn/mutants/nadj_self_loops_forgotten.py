# MUTANT: normalize_adjacency
# WHY: the self-loops are never added, even when add_self_loops is True
# %%
# GRADED: normalize_adjacency


def normalize_adjacency(adj, add_self_loops=True):
    deg = adj.sum(dim=1)
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)

# MUTANT: pool
# WHY: each graph's nodes are reduced over the feature axis instead of over the nodes
# %%
# GRADED: pool


def global_pool(x, batch, reduce="mean"):
    B = int(batch.max()) + 1
    out = x.new_zeros(B, x.shape[1])
    for b in range(B):
        rows = x[batch == b]
        if rows.shape[0] == 0:
            continue
        if reduce == "max":
            red = rows.max(dim=1).values
        elif reduce == "sum":
            red = rows.sum(dim=1)
        else:
            red = rows.mean(dim=1)
        out[b] = red.mean() if red.shape[0] != x.shape[1] else red
    return out

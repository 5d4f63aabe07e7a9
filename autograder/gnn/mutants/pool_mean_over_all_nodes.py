# MUTANT: pool
# WHY: the mean divides each graph's sum by the number of nodes in the whole batch
# %%
# GRADED: pool


def global_pool(x, batch, reduce="mean"):
    B = int(batch.max()) + 1
    out = x.new_zeros(B, x.shape[1])
    if reduce == "max":
        return out.scatter_reduce(0, batch.unsqueeze(-1).expand_as(x), x, reduce="amax", include_self=False)
    out = out.index_add(0, batch, x)
    return out if reduce == "sum" else out / x.shape[0]

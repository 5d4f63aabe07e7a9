# MUTANT: pool
# WHY: every graph gets the reduction over all the nodes of the batch, whatever graph they belong to
# %%
# GRADED: pool


def global_pool(x, batch, reduce="mean"):
    B = int(batch.max()) + 1
    if reduce == "max":
        red = x.max(dim=0).values
    elif reduce == "sum":
        red = x.sum(dim=0)
    else:
        red = x.mean(dim=0)
    return red.unsqueeze(0).repeat(B, 1)

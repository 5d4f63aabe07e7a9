# MUTANT: pool
# WHY: the nodes of each graph are assumed to be stored together, one graph after the other
# %%
# GRADED: pool
import torch


def global_pool(x, batch, reduce="mean"):
    counts = torch.bincount(batch).tolist()
    parts = torch.split(x, counts, dim=0)
    out = []
    for rows in parts:
        if rows.shape[0] == 0:
            out.append(x.new_zeros(x.shape[1]))
        elif reduce == "max":
            out.append(rows.max(dim=0).values)
        elif reduce == "sum":
            out.append(rows.sum(dim=0))
        else:
            out.append(rows.mean(dim=0))
    return torch.stack(out)

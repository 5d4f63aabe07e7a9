# VARIANT: pool
# a (B, N) one-hot assignment matrix: sum and mean by matrix products, max by a masked amax
# %%
# GRADED: pool
import torch
import torch.nn.functional as F


def global_pool(x, batch, reduce="mean"):
    B = int(batch.max().item()) + 1
    assign = F.one_hot(batch, B).T.to(x.dtype)  # (B, N)
    if reduce == "sum":
        return assign @ x
    if reduce == "mean":
        return (assign @ x) / assign.sum(1, keepdim=True).clamp(min=1)
    masked = torch.where(assign.bool().unsqueeze(-1), x.unsqueeze(0), torch.tensor(float("-inf"), dtype=x.dtype,
                                                                                      device=x.device))
    out = masked.amax(dim=1)  # (B, F)
    return torch.where(torch.isinf(out), torch.zeros_like(out), out)

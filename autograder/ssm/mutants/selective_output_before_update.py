# MUTANT: selective_scan
# WHY: reads the output before updating the state, so it lags one step behind.
# %%
# GRADED: selective_scan
import torch


def selective_scan(u, delta, A, B, C, D):
    b, l, d = u.shape
    dA = torch.exp(delta.unsqueeze(-1) * A)
    dBu = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
    h = u.new_zeros(b, d, A.shape[-1])
    ys = []
    for t in range(l):
        ys.append((h * C[:, t].unsqueeze(1)).sum(dim=-1))
        h = dA[:, t] * h + dBu[:, t]
    return torch.stack(ys, dim=1) + u * D


def selective_step(u_t, delta_t, A, B_t, C_t, D, h):
    if h is None:
        h = u_t.new_zeros(*u_t.shape, A.shape[-1])
    y_t = (h * C_t.unsqueeze(1)).sum(dim=-1) + D * u_t
    h = torch.exp(delta_t.unsqueeze(-1) * A) * h + (delta_t * u_t).unsqueeze(-1) * B_t.unsqueeze(1)
    return y_t, h

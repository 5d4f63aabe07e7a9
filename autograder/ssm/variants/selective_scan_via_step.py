# VARIANT: selective_scan
# WHY: the scan is written as a loop over selective_step (one token at a time), collecting y_t.
# %%
# GRADED: selective_scan
import torch


def selective_scan(u, delta, A, B, C, D):
    h, ys = None, []
    for t in range(u.shape[1]):
        y_t, h = selective_step(u[:, t], delta[:, t], A, B[:, t], C[:, t], D, h)  # noqa: F821
        ys.append(y_t)
    return torch.stack(ys, 1)


def selective_step(u_t, delta_t, A, B_t, C_t, D, h):
    if h is None:
        h = torch.zeros(u_t.shape[0], u_t.shape[1], A.shape[1], dtype=u_t.dtype, device=u_t.device)
    dA = torch.exp(delta_t[:, :, None] * A[None])
    h = dA * h + delta_t[:, :, None] * u_t[:, :, None] * B_t[:, None, :]
    y_t = torch.bmm(h, C_t.unsqueeze(-1)).squeeze(-1) + D[None] * u_t
    return y_t, h

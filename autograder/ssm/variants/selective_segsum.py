# VARIANT: selective_scan
# WHY: no loop in the scan: the closed form h_t = sum_{s<=t} exp(sum_{r=s+1..t} delta_r A) delta_s B_s u_s
# with cumulative sums of delta A (a masked "segment sum" matrix, as in Mamba-2's quadratic form);
# the step keeps the state as given and uses einsum.
# %%
# GRADED: selective_scan
import torch


def selective_scan(u, delta, A, B, C, D):
    b, l, d = u.shape
    S = torch.cumsum(delta.unsqueeze(-1) * A, dim=1)  # (b, l, d, n): sum_{r<=t} delta_r A
    diff = S.unsqueeze(2) - S.unsqueeze(1)  # (b, t, s, d, n): S_t - S_s
    causal = torch.ones(l, l, dtype=torch.bool, device=u.device).tril()  # s <= t
    decay = torch.where(causal[None, :, :, None, None], diff, torch.full_like(diff, float("-inf"))).exp()
    x = (delta * u).unsqueeze(-1) * B.unsqueeze(2)  # (b, s, d, n)
    h = torch.einsum("btsdn,bsdn->btdn", decay, x)  # (b, t, d, n)
    return torch.einsum("btdn,btn->btd", h, C) + D * u


def selective_step(u_t, delta_t, A, B_t, C_t, D, h):
    dA = torch.exp(torch.einsum("bd,dn->bdn", delta_t, A))
    x = torch.einsum("bd,bn->bdn", delta_t * u_t, B_t)
    h = x if h is None else dA * h + x
    return torch.einsum("bdn,bn->bd", h, C_t) + u_t * D, h

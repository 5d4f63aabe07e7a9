# VARIANT: linear_scan
# WHY: the work-efficient odd-even (Blelloch-style) recursion: combine neighbouring pairs, scan the
# half-length sequence recursively, then fill in the even positions; odd lengths padded with the
# identity element (a = 1, b = 0).
# %%
# GRADED: linear_scan
import torch


def linear_scan(a, b):
    L = a.shape[-1]
    if L == 1:
        return b
    if L % 2:
        a = torch.cat([a, torch.ones_like(a[..., :1])], dim=-1)
        b = torch.cat([b, torch.zeros_like(b[..., :1])], dim=-1)
    a0, a1 = a[..., 0::2], a[..., 1::2]
    b0, b1 = b[..., 0::2], b[..., 1::2]
    h_odd = linear_scan(a1 * a0, a1 * b0 + b1)  # h at positions 1, 3, 5, ...
    prev = torch.cat([torch.zeros_like(h_odd[..., :1]), h_odd[..., :-1]], dim=-1)  # h at 2k - 1
    h_even = a0 * prev + b0
    return torch.stack([h_even, h_odd], dim=-1).flatten(-2)[..., :L]

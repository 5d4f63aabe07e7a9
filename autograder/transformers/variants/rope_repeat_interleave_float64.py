# VARIANT: rope
# WHY: computes the angles in float64 (theta as exp(-(2i/E) log base)) and casts cos/sin to the
# working precision, repeats them to full width with repeat_interleave(2), and applies
# x * cos + rot(x) * sin with rot(x)[2i] = -x[2i+1], rot(x)[2i+1] = x[2i] (a "rotate pairs" helper)
# instead of stacking the two halves. Same rotation of each interleaved pair.
# %%
# GRADED: rope
import math

import torch


def apply_rope(x, positions, base=10000.0):
    """Rotary position embedding with interleaved pairs (RoFormer, Eq. 34)."""
    L, E = x.shape[-2], x.shape[-1]
    if E % 2:
        raise ValueError(f"odd last dimension {E}")
    if tuple(positions.shape) != (L,):
        raise ValueError(f"positions has shape {tuple(positions.shape)}, expected ({L},)")
    pos = positions.to(device=x.device, dtype=torch.float64)
    inv_freq = torch.exp(-math.log(base) * torch.arange(0, E, 2, device=x.device, dtype=torch.float64) / E)
    angles = (pos[:, None] * inv_freq[None, :]).repeat_interleave(2, dim=-1)  # (L, E): a0 a0 a1 a1 ...
    work = torch.promote_types(x.dtype, torch.float32)
    cos, sin = angles.cos().to(work), angles.sin().to(work)
    xw = x.to(work)
    rotated = torch.stack((-xw[..., 1::2], xw[..., 0::2]), dim=-1).flatten(-2)  # (-x1, x0) per pair
    return (xw * cos + rotated * sin).to(x.dtype)

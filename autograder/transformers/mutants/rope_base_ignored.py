# MUTANT: rope
# WHY: ignores the base it is given and always uses the default.
# %%
# GRADED: rope
import torch


def apply_rope(x, positions, base=10000.0):
    L, E = x.size(-2), x.size(-1)
    if E % 2 != 0:
        raise ValueError(f"apply_rope needs an even last dimension, got {E}")
    if positions.shape != (L,):
        raise ValueError(f"positions must have shape ({L},), got {tuple(positions.shape)}")
    # float32 at least: half-precision angles are wrong by far more than the rotation's effect
    dtype = torch.promote_types(x.dtype, torch.float32)
    theta = 10000.0 ** (-torch.arange(0, E, 2, device=x.device, dtype=dtype) / E)  # (E/2,)
    angles = positions.to(device=x.device, dtype=dtype).unsqueeze(-1) * theta  # (L, E/2)
    cos, sin = torch.cos(angles), torch.sin(angles)
    xf = x.to(dtype)
    x0, x1 = xf[..., 0::2], xf[..., 1::2]  # (..., L, E/2) each
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)  # (..., L, E/2, 2)
    return out.flatten(-2).to(x.dtype)  # (..., L, E), pairs interleaved again

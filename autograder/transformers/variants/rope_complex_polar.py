# VARIANT: rope
# WHY: implements the rotation as a complex multiplication: the interleaved pairs are viewed as
# complex numbers x0 + i x1 (torch.view_as_complex) and multiplied by torch.polar(1, m theta_i);
# (x0 + i x1)(cos + i sin) = (x0 cos - x1 sin) + i (x0 sin + x1 cos), the documented rotation.
# theta_i is written 1 / base^(2i/E); positions are validated with ndim / numel.
# %%
# GRADED: rope
import torch


def apply_rope(x, positions, base=10000.0):
    """Rotary position embedding with interleaved pairs (RoFormer, Eq. 34)."""
    *lead, L, E = x.shape
    if E % 2 == 1:
        raise ValueError("the last dimension must be even")
    if positions.ndim != 1 or positions.numel() != L:
        raise ValueError("positions must have shape (L,)")
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    i = torch.arange(E // 2, device=x.device, dtype=work)
    theta = 1.0 / base ** (2 * i / E)  # (E/2,)
    angles = torch.outer(positions.to(x.device, work), theta)  # (L, E/2)
    rotation = torch.polar(torch.ones_like(angles), angles)  # e^{i m theta}
    pairs = torch.view_as_complex(x.to(work).reshape(*lead, L, E // 2, 2).contiguous())
    return torch.view_as_real(pairs * rotation).reshape(x.shape).to(x.dtype)

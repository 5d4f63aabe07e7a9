# VARIANT: augment
# WHY: flips first (torch.where over the whole batch), pads, then crops with two gathers
#      whose offsets come from one uniform draw per image and axis (floor(u * (2p + 1)))
# %%
# GRADED: augment
import torch
import torch.nn.functional as F


def augment_batch(x, padding=2, generator=None):
    """Random translation (zero-pad by `padding`, crop back to H x W) and horizontal flip (p = 1/2), per image.

    x: (N, C, H, W) -> (N, C, H, W). Offsets are uniform in {0, ..., 2 * padding} for rows and columns,
    independently per image; random numbers come only from `generator`. x is left unchanged.
    """
    N, C, H, W = x.shape
    u = torch.rand(N, 3, generator=generator)
    n_off = 2 * padding + 1
    offsets = (u[:, :2] * n_off).floor().long().clamp(max=n_off - 1).to(x.device)  # (N, 2)
    flip = (u[:, 2] < 0.5).to(x.device).view(N, 1, 1, 1)
    xf = torch.where(flip, x.flip(-1), x)
    padded = F.pad(xf, (padding, padding, padding, padding))
    Hp, Wp = padded.shape[-2:]
    rows = (offsets[:, 0, None] + torch.arange(H, device=x.device)).view(N, 1, H, 1).expand(N, C, H, Wp)
    out = padded.gather(2, rows)  # (N, C, H, Wp)
    cols = (offsets[:, 1, None] + torch.arange(W, device=x.device)).view(N, 1, 1, W).expand(N, C, H, W)
    return out.gather(3, cols)

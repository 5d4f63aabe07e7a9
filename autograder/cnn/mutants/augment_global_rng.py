# MUTANT: augment
# WHY: draws its random flips and crops from the global random generator instead of the one it is given.
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
    offsets = torch.randint(0, 2 * padding + 1, (N, 2)).to(x.device)  # (N, 2)
    flip = (torch.rand(N) < 0.5).to(x.device)  # (N,)
    padded = F.pad(x, (padding, padding, padding, padding))  # (N, C, H + 2p, W + 2p)
    rows = offsets[:, :1] + torch.arange(H, device=x.device)  # (N, H)
    cols = offsets[:, 1:] + torch.arange(W, device=x.device)  # (N, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols)  # mirrored images read their columns backwards
    n = torch.arange(N, device=x.device)[:, None, None, None]
    c = torch.arange(C, device=x.device)[None, :, None, None]
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)

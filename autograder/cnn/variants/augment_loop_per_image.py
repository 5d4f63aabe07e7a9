# VARIANT: augment
# WHY: a Python loop over images: pad each, slice its window, flip with torch.flip; one
#      randint and one rand per image, in that order
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
    out = []
    for i in range(N):
        dy, dx = torch.randint(0, 2 * padding + 1, (2,), generator=generator).tolist()
        img = F.pad(x[i], (padding, padding, padding, padding))[:, dy : dy + H, dx : dx + W]
        if torch.rand(1, generator=generator).item() < 0.5:
            img = torch.flip(img, dims=(-1,))
        out.append(img)
    return torch.stack(out)

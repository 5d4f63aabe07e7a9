# VARIANT: conv2d
# WHY: builds the windows with as_strided on a contiguous padded copy and contracts with tensordot
# %%
# GRADED: conv2d
import torch
import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation with F.conv2d's semantics (no kernel flip, zero padding on all sides).

    x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None; stride, padding: ints.
    Returns (N, C_out, H_out, W_out) with H_out = (H + 2 * padding - kH) // stride + 1 (same for W).
    """
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = weight.shape
    H_out = (H + 2 * padding - kH) // stride + 1
    W_out = (W + 2 * padding - kW) // stride + 1
    xp = F.pad(x, (padding,) * 4).contiguous()
    sN, sC, sH, sW = xp.stride()
    windows = xp.as_strided((N, C_in, H_out, W_out, kH, kW), (sN, sC, sH * stride, sW * stride, sH, sW))
    out = torch.tensordot(windows, weight, dims=([1, 4, 5], [1, 2, 3]))  # (N, H_out, W_out, C_out)
    if bias is not None:
        out = out + bias
    return out.permute(0, 3, 1, 2).contiguous()

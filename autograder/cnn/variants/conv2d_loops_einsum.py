# VARIANT: conv2d
# WHY: loops over the kernel offsets (kH * kW steps), each an einsum over channels of a strided
#      slice of the padded input: the definition, summed in another order
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
    xp = F.pad(x, (padding, padding, padding, padding))
    out = None
    for u in range(kH):
        for v in range(kW):
            patch = xp[:, :, u : u + stride * (H_out - 1) + 1 : stride, v : v + stride * (W_out - 1) + 1 : stride]
            term = torch.einsum("nchw,oc->nohw", patch, weight[:, :, u, v])
            out = term if out is None else out + term
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out

# MUTANT: conv2d
# WHY: puts all the zero padding on the bottom and right, so the output has the right size but shifted values.
# %%
# GRADED: conv2d
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
    cols = F.unfold(F.pad(x, (0, 2 * padding, 0, 2 * padding)), (kH, kW), stride=stride)  # (N, C_in*kH*kW, L)
    out = weight.reshape(C_out, -1) @ cols  # (N, C_out, L)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1)  # one bias per output channel
    return out.reshape(N, C_out, H_out, W_out)

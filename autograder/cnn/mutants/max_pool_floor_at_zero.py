# MUTANT: max_pool
# WHY: starts the running maximum at zero, so a window of negative values gives zero.
# %%
# GRADED: max_pool
import torch.nn.functional as F


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling with F.max_pool2d's semantics (no padding, floor mode); stride defaults to kernel_size.

    x: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - kernel_size) // stride + 1 (same for W).
    """
    stride = kernel_size if stride is None else stride
    N, C, H, W = x.shape
    H_out = (H - kernel_size) // stride + 1
    W_out = (W - kernel_size) // stride + 1
    cols = F.unfold(x.reshape(N * C, 1, H, W), kernel_size, stride=stride)  # (N*C, k*k, L)
    return cols.clamp(min=0).max(dim=1).values.reshape(N, C, H_out, W_out)

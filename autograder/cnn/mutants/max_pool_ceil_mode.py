# MUTANT: max_pool
# WHY: keeps the incomplete windows at the border instead of dropping them.
# %%
# GRADED: max_pool
import torch.nn.functional as F


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling with F.max_pool2d's semantics (no padding, floor mode); stride defaults to kernel_size.

    x: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - kernel_size) // stride + 1 (same for W).
    """
    stride = kernel_size if stride is None else stride
    N, C, H, W = x.shape
    H_out = -(-(H - kernel_size) // stride) + 1
    W_out = -(-(W - kernel_size) // stride) + 1
    x = F.pad(x, (0, (W_out - 1) * stride + kernel_size - W, 0, (H_out - 1) * stride + kernel_size - H),
              value=float("-inf"))
    H, W = x.shape[-2:]
    cols = F.unfold(x.reshape(N * C, 1, H, W), kernel_size, stride=stride)  # (N*C, k*k, L)
    return cols.max(dim=1).values.reshape(N, C, H_out, W_out)  # gradient to each window's maximum

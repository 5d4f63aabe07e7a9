# VARIANT: max_pool
# WHY: loops over the kernel offsets, stacks the strided slices and takes torch.max over them
# %%
# GRADED: max_pool
import torch


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling with F.max_pool2d's semantics (no padding, floor mode); stride defaults to kernel_size.

    x: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - kernel_size) // stride + 1 (same for W).
    """
    stride = kernel_size if stride is None else stride
    N, C, H, W = x.shape
    H_out = (H - kernel_size) // stride + 1
    W_out = (W - kernel_size) // stride + 1
    slices = [x[:, :, u : u + stride * (H_out - 1) + 1 : stride, v : v + stride * (W_out - 1) + 1 : stride]
              for u in range(kernel_size) for v in range(kernel_size)]
    return torch.stack(slices, dim=0).max(dim=0).values

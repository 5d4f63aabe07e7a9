# VARIANT: max_pool
# WHY: windows by as_strided, then amax over the two window axes (on inputs without ties
#      the gradient is the same as max's)
# %%
# GRADED: max_pool


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling with F.max_pool2d's semantics (no padding, floor mode); stride defaults to kernel_size.

    x: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - kernel_size) // stride + 1 (same for W).
    """
    stride = kernel_size if stride is None else stride
    N, C, H, W = x.shape
    H_out = (H - kernel_size) // stride + 1
    W_out = (W - kernel_size) // stride + 1
    xc = x.contiguous()
    sN, sC, sH, sW = xc.stride()
    win = xc.as_strided((N, C, H_out, W_out, kernel_size, kernel_size), (sN, sC, sH * stride, sW * stride, sH, sW))
    return win.amax(dim=(-2, -1))

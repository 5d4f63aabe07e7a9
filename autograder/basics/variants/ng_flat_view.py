# VARIANT: numerical_gradient
# WHY: walks x through a flat view of its storage (x.view(-1), which shares memory with x), one entry
# index at a time, and writes rel_error with torch.maximum against a tensor of the floor.
# %%
# GRADED: numerical_gradient
import torch


def numerical_gradient(f, x, h=1e-5):
    flat = x.view(-1)  # (numel,): the same memory as x, so writing flat[i] changes x
    grad = torch.empty(flat.shape, dtype=x.dtype, device=x.device)
    for i in range(flat.numel()):
        saved = flat[i].clone()
        flat[i] = saved + h
        up = f(x)
        up = up.item() if isinstance(up, torch.Tensor) else float(up)
        flat[i] = saved - h
        down = f(x)
        down = down.item() if isinstance(down, torch.Tensor) else float(down)
        flat[i] = saved
        grad[i] = (up - down) / (2.0 * h)
    return grad.view(x.shape)


def rel_error(a, b):
    a, b = a.double(), b.double()
    denominator = torch.maximum(a.abs() + b.abs(), torch.full_like(a, 1e-8))
    return float(torch.max((a - b).abs() / denominator))

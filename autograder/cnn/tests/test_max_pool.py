"""Hidden tests of `max_pool2d(x, kernel_size, stride=None)`.

F.max_pool2d's semantics: stride defaults to kernel_size, no padding, floor mode (windows that do
not fit are dropped), channels pooled separately, the gradient goes to each window's maximum (summed
where overlapping windows share it). Inputs are continuous random numbers (no ties), centred so that
many windows are entirely negative.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("max_pool")

helpers = load_helpers(__file__)
F64, randn = helpers.F64, helpers.randn


def check_shape(out, x, k, s):
    N, C, H, W = x.shape
    want = (N, C, (H - k) // s + 1, (W - k) // s + 1)
    assert isinstance(out, torch.Tensor), f"max_pool2d must return a tensor, got {type(out).__name__}"
    assert tuple(out.shape) == want, (
        f"max_pool2d output shape {tuple(out.shape)} should be {want}: H_out = (H - kernel_size) // stride + 1 "
        "(no padding, windows that do not fit are dropped), stride = kernel_size when not given"
    )


CASES = [((2, 3, 8, 8), 2, None), ((2, 3, 7, 9), 2, None), ((1, 2, 9, 7), 3, None), ((2, 2, 7, 8), 3, 2),
         ((1, 4, 6, 5), 2, 1), ((2, 1, 10, 6), 4, 3), ((1, 3, 5, 5), 5, None)]
IDS = [f"{'x'.join(map(str, s))}-k{k}-s{st}" for s, k, st in CASES]


@pytest.mark.parametrize("shape,k,stride", CASES, ids=IDS)
def test_values(sub, observe, device, gen, shape, k, stride):
    """takes the maximum of every window (kernel sizes, strides, sizes that leave a remainder)"""
    x = (randn(gen, *shape) - 1.0).to(device)  # many all-negative windows
    out = sub.max_pool2d(x, k) if stride is None else sub.max_pool2d(x, k, stride)
    check_shape(out, x, k, k if stride is None else stride)
    observe("max_pool2d(x)", out)


@pytest.mark.parametrize("shape,k,stride", CASES, ids=IDS)
def test_gradient(sub, observe, device, gen, shape, k, stride):
    """sends each window's upstream gradient to its maximum (summed where windows overlap)"""
    x = randn(gen, *shape).to(device).requires_grad_(True)
    out = sub.max_pool2d(x, k, stride)
    check_shape(out, x, k, k if stride is None else stride)
    upstream = randn(gen, *out.shape).to(device)
    (out * upstream).sum().backward()
    assert x.grad is not None, "no gradient reached x: keep max_pool2d on the autograd graph"
    assert torch.allclose(x.grad.sum(), upstream.sum()), (
        "the gradient of max pooling must pass each window's upstream gradient on to exactly one input "
        f"(its maximum): the total {float(x.grad.sum()):.4f} should equal the upstream total "
        f"{float(upstream.sum()):.4f}"
    )
    observe("x.grad", x.grad)


def test_channels_separate(sub, observe, device, gen):
    """pools every channel of every image separately"""
    x = randn(gen, 3, 4, 6, 6).to(device)
    out = sub.max_pool2d(x, 2)
    check_shape(out, x, 2, 2)
    alone = sub.max_pool2d(x[1:2, 2:3], 2)
    assert torch.equal(out[1:2, 2:3], alone), "pooling one channel of one image alone must give the same values"
    observe("max_pool2d(x)", out)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_dtype(sub, observe, device, gen, dtype):
    """keeps the input's dtype"""
    x = randn(gen, 2, 2, 6, 6, dtype=dtype).to(device)
    out = sub.max_pool2d(x, 2)
    assert out.dtype == dtype, f"max_pool2d of a {dtype} input returned {out.dtype}"
    observe("max_pool2d(x)", out)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's 17 hidden and 2 public tests weigh 1 each), so that pooling wrong on every input of one
# kind (the default stride, a size that leaves a remainder, all-negative windows) keeps at most a third; the tests
# above say which kind.
@pytest.mark.question("max_pool", weight=38)
def test_whole_contract(sub, observe, device, gen):
    """the default stride on a size that leaves a remainder, an explicit stride, the gradient, channels"""
    test_values(sub, observe, device, gen, *CASES[1])
    test_values(sub, observe, device, gen, *CASES[3])
    test_gradient(sub, observe, device, gen, *CASES[5])
    test_channels_separate(sub, observe, device, gen)

"""Hidden tests of `conv2d(x, weight, bias=None, stride=1, padding=0)`.

F.conv2d's semantics: cross-correlation (the kernel is not flipped), zero padding on all four
sides, H_out = (H + 2p - kH) // s + 1 (floor). Inputs are float64 unless the test is about dtypes;
shapes cover 1x1 and rectangular kernels, non-square images, one and many channels, strides that
do not divide the padded size, and a case where W_out equals C_out (a bias added along the wrong
axis broadcasts silently there). Gradients are checked with torch.autograd.gradcheck and against
the reference with a random upstream gradient.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("conv2d")

helpers = load_helpers(__file__)
F64, randn = helpers.F64, helpers.randn


def expected_shape(x, w, stride, padding):
    N, _, H, W = x.shape
    C_out, _, kH, kW = w.shape
    return (N, C_out, (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1)


def check_shape(out, x, w, stride, padding):
    want = expected_shape(x, w, stride, padding)
    assert isinstance(out, torch.Tensor), f"conv2d must return a tensor, got {type(out).__name__}"
    assert tuple(out.shape) == want, (
        f"conv2d output shape {tuple(out.shape)} should be {want}: (N, C_out, H_out, W_out) with "
        f"H_out = (H + 2 * padding - kH) // stride + 1 = ({x.shape[2]} + 2*{padding} - {w.shape[2]}) // {stride} + 1"
    )


# (x shape, weight shape, stride, padding)
CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 0),  # W_out == C_out == 4
    ((1, 1, 5, 7), (1, 1, 3, 3), 1, 1),
    ((2, 5, 8, 6), (6, 5, 1, 1), 1, 0),
    ((2, 5, 8, 6), (6, 5, 1, 1), 2, 1),
    ((3, 2, 9, 7), (3, 2, 5, 3), 2, 2),
    ((2, 4, 7, 10), (5, 4, 2, 4), 3, 1),
    ((1, 3, 4, 4), (2, 3, 4, 4), 1, 0),  # kernel as large as the image
    ((2, 2, 6, 5), (3, 2, 3, 2), 1, 2),
]
IDS = [f"x{'x'.join(map(str, c[0]))}-w{'x'.join(map(str, c[1]))}-s{c[2]}-p{c[3]}" for c in CASES]


@pytest.mark.parametrize("xs,ws,stride,padding", CASES, ids=IDS)
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_values(sub, observe, device, gen, xs, ws, stride, padding, with_bias):
    """matches F.conv2d's definition for strides, paddings, kernel sizes and channel counts"""
    x, w = randn(gen, *xs).to(device), randn(gen, *ws).to(device)
    b = randn(gen, ws[0]).to(device) if with_bias else None
    out = sub.conv2d(x, w, b, stride=stride, padding=padding)
    check_shape(out, x, w, stride, padding)
    observe("conv2d(x, weight, bias)", out)


def test_default_arguments(sub, observe, device, gen):
    """uses bias=None, stride=1 and padding=0 by default"""
    x, w = randn(gen, 2, 3, 6, 5).to(device), randn(gen, 2, 3, 3, 3).to(device)
    out = sub.conv2d(x, w)
    check_shape(out, x, w, 1, 0)
    observe("conv2d(x, weight)", out)


def test_single_pixel_kernel_is_cross_correlation(sub, observe, device, gen):
    """is a cross-correlation: a kernel with a single 1 at (u, v) reads the input at offset (u, v)"""
    x = randn(gen, 1, 1, 6, 7).to(device)
    w = torch.zeros(1, 1, 3, 3, dtype=F64)
    w[0, 0, 0, 2] = 1.0  # top-right entry of the kernel
    out = sub.conv2d(x, w.to(device))
    check_shape(out, x, w, 1, 0)
    shifted = x[:, :, 0:4, 2:7]
    assert torch.allclose(out, shifted), (
        "with a kernel whose only non-zero entry is weight[0, 0, 0, 2], output[i, j] must equal x[i + 0, j + 2]: "
        "conv2d is a cross-correlation, do not flip the kernel"
    )
    observe("conv2d with a one-hot kernel", out)


def test_padding_is_zero_on_all_sides(sub, observe, device, gen):
    """pads with zeros on all four sides (a 3x3 box filter over an all-ones image)"""
    x = torch.ones(1, 1, 4, 5, dtype=F64).to(device)
    w = torch.ones(1, 1, 3, 3, dtype=F64).to(device)
    out = sub.conv2d(x, w, padding=1)
    check_shape(out, x, w, 1, 1)
    corners = out[0, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert torch.allclose(corners, torch.full_like(corners, 4.0)), (
        f"the corners of a 3x3 box filter over ones with padding=1 must sum 4 pixels, got {corners.tolist()}: "
        "pad the same number of zeros on the top, bottom, left and right"
    )
    observe("box filter over ones", out)


@pytest.mark.parametrize("stride,padding", [(1, 1), (2, 1), (2, 0)])
def test_gradcheck(sub, observe, device, gen, stride, padding):
    """has correct gradients for x, weight and bias (torch.autograd.gradcheck, float64)"""
    x = randn(gen, 2, 2, 5, 4).to(device).requires_grad_(True)
    w = randn(gen, 3, 2, 3, 2).to(device).requires_grad_(True)
    b = randn(gen, 3).to(device).requires_grad_(True)
    ok = torch.autograd.gradcheck(lambda x, w, b: sub.conv2d(x, w, b, stride=stride, padding=padding), (x, w, b),
                                  raise_exception=False)
    assert ok, "the gradients of conv2d do not match finite differences: use differentiable tensor operations only"
    observe("gradcheck passes", bool(ok))


def test_gradient_values(sub, observe, device, gen):
    """gives the reference's gradients for a random upstream gradient"""
    x = randn(gen, 2, 3, 6, 6).to(device).requires_grad_(True)
    w = randn(gen, 4, 3, 3, 3).to(device).requires_grad_(True)
    b = randn(gen, 4).to(device).requires_grad_(True)
    out = sub.conv2d(x, w, b, stride=2, padding=1)
    check_shape(out, x, w, 2, 1)
    (out * randn(gen, *out.shape).to(device)).sum().backward()
    for name, t in {"x": x, "weight": w, "bias": b}.items():
        assert t.grad is not None, f"no gradient reached {name}: keep conv2d on the autograd graph"
        observe(f"{name}.grad", t.grad)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_dtype(sub, observe, device, gen, dtype):
    """keeps the input's dtype"""
    x, w, b = randn(gen, 2, 3, 5, 5, dtype=dtype), randn(gen, 2, 3, 3, 3, dtype=dtype), randn(gen, 2, dtype=dtype)
    out = sub.conv2d(x.to(device), w.to(device), b.to(device), padding=1)
    assert out.dtype == dtype, f"conv2d of {dtype} inputs returned {out.dtype}: keep the input's dtype"
    observe("dtype", str(out.dtype))
    observe("conv2d(x, weight, bias)", out)


def test_does_not_modify_inputs(sub, observe, device, gen):
    """leaves x, weight and bias unchanged"""
    x, w, b = randn(gen, 2, 2, 5, 5).to(device), randn(gen, 3, 2, 3, 3).to(device), randn(gen, 3).to(device)
    saved = [t.clone() for t in (x, w, b)]
    out = sub.conv2d(x, w, b, padding=1)
    assert all(torch.equal(t, s) for t, s in zip((x, w, b), saved)), "conv2d modified one of its inputs in place"
    observe("conv2d(x, weight, bias)", out)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's 26 hidden and 4 public tests weigh 1 each), so that a convolution wrong on every input
# of one kind (with a bias, a stride, a padding) keeps at most a third; the tests above say which kind.
@pytest.mark.question("conv2d", weight=60)
def test_whole_contract(sub, observe, device, gen):
    """values with a bias (W_out == C_out), with stride and padding and a rectangular kernel, the defaults, no
    kernel flip, zero padding on all sides, gradients"""
    test_values(sub, observe, device, gen, *CASES[0], True)
    test_values(sub, observe, device, gen, *CASES[4], True)
    test_default_arguments(sub, observe, device, gen)
    test_single_pixel_kernel_is_cross_correlation(sub, observe, device, gen)
    test_padding_is_zero_on_all_sides(sub, observe, device, gen)
    test_gradient_values(sub, observe, device, gen)

"""Hidden tests of `softmax(x, dim=-1)`: exp(x - max) / sum exp(x - max) along `dim`.

Same shape and dtype as x; the max is taken per slice along `dim` (keepdim), so that
the largest exponent is exp(0) = 1 and nothing overflows. Stability is checked the way
CS336 does it (x + 100 and x * 1000), plus rows whose maxima differ by thousands, which
only a per-slice max survives (a single global max underflows whole rows to 0 / 0).
"""

import pytest
import torch

from autograder.testing import expect_close, expect_equal

pytestmark = pytest.mark.question("softmax")

F64 = torch.float64


def randn(gen, *shape, dtype=F64, scale=1.0):
    return (scale * torch.randn(*shape, generator=gen, dtype=F64)).to(dtype)


def check_shape_dtype(out, x):
    assert isinstance(out, torch.Tensor), "softmax must return a tensor"
    assert out.shape == x.shape, f"softmax must keep the input's shape {tuple(x.shape)}, got {tuple(out.shape)}"
    assert out.dtype == x.dtype, f"softmax must keep the input's dtype {x.dtype}, got {out.dtype}"


CASES = [((7,), -1), ((3, 5), -1), ((3, 5), 0), ((4, 4), -1), ((4, 4), 0),
         ((2, 3, 4), 1), ((2, 3, 4), -2), ((2, 3, 4), 2)]


@pytest.mark.parametrize("shape,dim", CASES, ids=[f"{'x'.join(map(str, s))}-dim{d}" for s, d in CASES])
def test_values(sub, observe, device, shape, dim):
    """matches the reference along the given dim"""
    gen = torch.Generator().manual_seed(101)
    x = randn(gen, *shape, scale=2.0).to(device)
    out = sub.softmax(x, dim=dim)
    check_shape_dtype(out, x)
    sums = out.sum(dim=dim)
    expect_close(
        sums, torch.ones_like(sums),
        (f"softmax(x, dim={dim}) must sum to 1 along dim {dim}; the sums are {sums.flatten()[:6].tolist()}. "
        "Reduce (max and sum) along `dim` with keepdim=True, so the result broadcasts back onto x"),
    )
    observe(f"softmax(x, dim={dim})", out)


def test_default_dim(sub, observe, device):
    """uses dim=-1 by default"""
    gen = torch.Generator().manual_seed(102)
    x = randn(gen, 3, 4, 5).to(device)
    out = sub.softmax(x)
    check_shape_dtype(out, x)
    observe("softmax(x)", out)


# Shift invariance holds to this tolerance: in float32, x - 1e4 is only known to about 1e-3 (its last bit), so
# a correct softmax that cancels large numbers (x - logsumexp(x)) is off by a few 1e-4 relative there.
SHIFTED = {"rtol": 5e-3, "atol": 1e-5}


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("transform", ["x", "x+100", "x*1000", "x-1e4"])
def test_stability(sub, observe, device, dtype, transform):
    """is finite and shift-invariant for large inputs (x + 100, x * 1000, x - 1e4)"""
    gen = torch.Generator().manual_seed(103)
    base = randn(gen, 4, 6)
    x = {"x": base, "x+100": base + 100, "x*1000": base * 1000, "x-1e4": base - 1e4}[transform].to(dtype).to(device)
    out = sub.softmax(x, dim=-1)
    check_shape_dtype(out, x)
    assert torch.isfinite(out).all(), (
        f"softmax({transform}) produced NaN or inf: exp overflows (or every term underflows to 0). "
        "Subtract the max along dim before exponentiating: softmax(x) = softmax(x - max(x))"
    )
    if transform in ("x+100", "x-1e4"):
        plain = sub.softmax(base.to(dtype).to(device), dim=-1)
        expect_close(
            out, plain,
            f"softmax({transform}) must equal softmax(x): softmax is unchanged by adding a constant to a row",
            **SHIFTED,
        )
    # judged at the tolerance this test checks (the dtype's own default elsewhere)
    observe(f"softmax({transform})", out, **(SHIFTED if transform in ("x+100", "x-1e4") else {}))


@pytest.mark.parametrize("dim", [-1, 0])
def test_rows_far_apart(sub, observe, device, dim):
    """subtracts the max of each slice, not one global max (slices whose maxima differ by 1000s)"""
    gen = torch.Generator().manual_seed(104)
    x = randn(gen, 4, 6, dtype=torch.float32, scale=3.0) + 1000 * torch.arange(4, dtype=torch.float32)[:, None]
    if dim == 0:
        x = x.T.contiguous()
    x = x.to(device)
    out = sub.softmax(x, dim=dim)
    check_shape_dtype(out, x)
    assert torch.isfinite(out).all(), (
        "softmax gave NaN for slices whose maxima differ by thousands: subtract the max of each slice "
        f"(x.amax(dim={dim}, keepdim=True)), not the max of the whole tensor"
    )
    observe(f"softmax(x, dim={dim})", out)


def test_negative_infinity(sub, observe, device):
    """gives exactly 0 to -inf entries (masked scores)"""
    gen = torch.Generator().manual_seed(105)
    x = randn(gen, 4, 6)
    x[0, 1] = x[1, 0] = x[1, 5] = x[2, 2] = x[3, 0] = x[3, 1] = x[3, 2] = float("-inf")
    x = x.to(device)
    out = sub.softmax(x, dim=-1)
    check_shape_dtype(out, x)
    assert torch.isfinite(out).all(), "softmax must handle -inf entries (exp(-inf) = 0) without producing NaN"
    assert (out[torch.isinf(x)] == 0).all(), "entries that are -inf must get probability exactly 0"
    observe("softmax(x with -inf entries)", out)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, F64],
                         ids=["float16", "bfloat16", "float32", "float64"])
def test_dtypes(sub, observe, device, dtype):
    """keeps the input's dtype"""
    gen = torch.Generator().manual_seed(106)
    x = randn(gen, 3, 5, dtype=dtype).to(device)
    out = sub.softmax(x, dim=-1)
    check_shape_dtype(out, x)
    observe("dtype", str(out.dtype))
    observe("softmax(x)", out)


def test_gradient(sub, observe, device):
    """is differentiable (gradient with a random upstream gradient)"""
    gen = torch.Generator().manual_seed(107)
    x = randn(gen, 3, 5, scale=2.0).to(device).requires_grad_(True)
    upstream = randn(gen, 3, 5).to(device)
    out = sub.softmax(x, dim=0)
    assert out.requires_grad, "softmax's output must stay on the autograd graph (no .detach(), no numpy)"
    (out * upstream).sum().backward()
    observe("x.grad", x.grad)


def test_does_not_modify_input(sub, observe, device):
    """leaves its input unchanged"""
    gen = torch.Generator().manual_seed(108)
    x = randn(gen, 3, 5, scale=3.0).to(device)
    before = x.clone()
    out = sub.softmax(x, dim=-1)
    expect_equal(
        x, before,
        ("softmax modified its input in place (e.g. x -= x.max(...) or x.exp_()): compute on new tensors, "
        "attention passes its scores in and may still need them"),
    )
    observe("softmax(x)", out)


# One function, one contract: this test runs the checks above on one input each (any dim, large and far-apart
# inputs, the input left unchanged) and carries two thirds of the question's points, so that a softmax wrong on
# every input of one kind keeps at most a third; the tests above say which kind.
@pytest.mark.question("softmax", weight=66)
def test_whole_contract(sub, observe, device):
    """along any dim, stable for large inputs and for slices far apart, input unchanged"""
    test_values(sub, observe, device, (2, 3, 4), 1)
    test_stability(sub, observe, device, torch.float32, "x+100")
    test_rows_far_apart(sub, observe, device, -1)
    test_does_not_modify_input(sub, observe, device)

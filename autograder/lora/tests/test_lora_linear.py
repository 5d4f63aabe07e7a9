"""Hidden tests of `lora_linear(x, weight, bias, A, B, alpha)`:
x W^T + bias + (alpha / r) (x A^T) B^T for x (..., in), computed without forming B A.

Whether B A (or the merged weight) is formed is watched with a TorchFunctionMode that records every
out x in tensor an operation returns.
"""


import pytest
import torch
from torch.overrides import TorchFunctionMode

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("lora_linear")


def operands(gen, lead, n_in, out, r, bias=True, dtype=F64):
    x = torch.randn(*lead, n_in, generator=gen, dtype=F64).to(dtype)
    W = torch.randn(out, n_in, generator=gen, dtype=F64).to(dtype)
    b = torch.randn(out, generator=gen, dtype=F64).to(dtype) if bias else None
    A = torch.randn(r, n_in, generator=gen, dtype=F64).to(dtype)
    B = torch.randn(out, r, generator=gen, dtype=F64).to(dtype)
    return x, W, b, A, B


def run(sub, device, x, W, b, A, B, alpha):
    args = [t.to(device) if t is not None else None for t in (x, W, b, A, B)]
    kept = [t.clone() if t is not None else None for t in args]
    out = sub.lora_linear(*args, alpha)
    want_shape = (*x.shape[:-1], W.shape[0])
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == want_shape, (
        f"lora_linear must return (..., out) = {want_shape}, got "
        f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}"
    )
    for name, before, after in zip(["x", "weight", "bias", "A", "B"], kept, args):
        assert before is None or torch.equal(before, after), f"lora_linear modified its input {name}"
    return out


CASES = [((5,), 7, 4, 2, True), ((2, 3), 6, 5, 3, True), ((2, 2, 3), 4, 6, 1, False), ((4,), 8, 8, 8, False)]


@pytest.mark.parametrize("case", CASES, ids=["2d", "3d", "4d_no_bias", "full_rank_no_bias"])
def test_values(sub, observe, device, gen, case):
    """matches the reference for any number of leading dimensions, with and without bias"""
    lead, n_in, out, r, bias = case
    x, W, b, A, B = operands(gen, lead, n_in, out, r, bias)
    y = run(sub, device, x, W, b, A, B, 3.0)
    observe("lora_linear(x, W, b, A, B, alpha=3)", y)


@pytest.mark.parametrize("alpha", [1.0, 6.0])
def test_equals_merged_weight(sub, observe, device, gen, alpha):
    """equals x W'^T + b with the merged weight W' = W + (alpha / r) B A"""
    x, W, b, A, B = operands(gen, (3, 4), 6, 5, 2)
    y = run(sub, device, x, W, b, A, B, alpha)
    want = (x @ H.trusted_merge(W, A, B, alpha).T + b).to(device)
    same = bool(torch.allclose(y, want, rtol=1e-10, atol=1e-10))
    assert same, (
        "lora_linear must equal x (W + (alpha / r) B A)^T + bias: check the scale alpha / r (r = A.shape[0]) "
        "and that the bias is added once, to the base path"
    )
    observe("equals the merged layer", same)
    observe("output", y)


def test_zero_B_is_the_base_layer(sub, observe, device, gen):
    """with B = 0 the output is exactly x W^T + b"""
    x, W, b, A, B = operands(gen, (3,), 5, 4, 2)
    y = run(sub, device, x, W, b, A, torch.zeros_like(B), 2.0)
    want = (x @ W.T + b).to(device)
    same = bool(torch.allclose(y, want, rtol=1e-12, atol=1e-12))
    assert same, "with B = 0 the LoRA branch is zero: lora_linear must give the base layer x W^T + bias"
    observe("B = 0 gives the base layer", same)


class MatrixRecorder(TorchFunctionMode):
    """Records every tensor of one of the given shapes that a torch function returns inside the block."""

    def __init__(self, shapes):
        super().__init__()
        self.watch, self.seen = set(shapes), []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor) and tuple(t.shape) in self.watch:
                self.seen.append((getattr(func, "__name__", str(func)), t.detach().clone()))
        return out


def test_does_not_form_the_merged_matrix(sub, observe, device, gen):
    """never forms an out x in matrix other than the weight itself (B A or the merged weight)"""
    out_f, in_f, r = 5, 7, 2
    x, W, b, A, B = (t.to(device) for t in operands(gen, (3,), in_f, out_f, r))
    with MatrixRecorder([(out_f, in_f), (in_f, out_f)]) as rec:
        y = sub.lora_linear(x, W, b, A, B, 2.0)
    formed = sorted({name for name, t in rec.seen
                     if not any(t.shape == w.shape and torch.equal(t, w) for w in (W, W.T))})
    assert not formed, (
        f"lora_linear formed an {out_f} x {in_f} matrix other than the weight (by {formed}): compute (x A^T) B^T, "
        "two thin products, instead of B A or the merged weight (that is merge_lora's job, for inference)"
    )
    observe("no out x in matrix formed", not formed)
    observe("output", y)


def test_gradients(sub, observe, device, gen):
    """is differentiable in x, A and B (float32)"""
    x, W, b, A, B = operands(gen, (2, 3), 6, 4, 2, dtype=torch.float32)
    x, A, B = (t.to(device).requires_grad_() for t in (x, A, B))
    y = sub.lora_linear(x, W.to(device), b.to(device), A, B, 4.0)
    upstream = torch.randn(y.shape, generator=gen).to(device)
    (y * upstream).sum().backward()
    for name, t in [("x", x), ("A", A), ("B", B)]:
        assert t.grad is not None, f"no gradient reached {name}: keep the computation differentiable"
        observe(f"grad {name}", t.grad)


# One contract: this test runs the checks above on one input each (with and without a bias, B = 0, the merged matrix
# never formed, gradients) and carries two thirds of the question's points, so that code wrong in any one part keeps
# at most a third; the tests above say which part is wrong.
@pytest.mark.question("lora_linear", weight=24)
def test_whole_contract(sub, observe, device, gen):
    """with and without a bias, B = 0 is the base layer, no out x in matrix formed, gradients"""
    test_values(sub, observe, device, gen, CASES[1])
    test_values(sub, observe, device, gen, CASES[2])
    test_equals_merged_weight(sub, observe, device, gen, 6.0)
    test_zero_B_is_the_base_layer(sub, observe, device, gen)
    test_does_not_form_the_merged_matrix(sub, observe, device, gen)
    test_gradients(sub, observe, device, gen)

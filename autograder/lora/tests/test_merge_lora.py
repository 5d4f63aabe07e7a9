"""Hidden tests of `merge_lora(weight, A, B, alpha) -> weight + (alpha / r) B A`, a new tensor.

weight (out, in), A (r, in), B (out, r); r is read from the shapes. Values are compared with the
reference; the invariants (shape, inputs unchanged, rank of the update) are asserted directly.
"""


import pytest
import torch

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("merge_lora")

SHAPES = [(5, 7, 1), (6, 4, 3), (8, 8, 8), (3, 9, 2)]  # (out, in, r)


def factors(gen, out, n_in, r, dtype=F64):
    W = torch.randn(out, n_in, generator=gen, dtype=F64).to(dtype)
    A = torch.randn(r, n_in, generator=gen, dtype=F64).to(dtype)
    B = torch.randn(out, r, generator=gen, dtype=F64).to(dtype)
    return W, A, B


def merged(sub, W, A, B, alpha):
    kept = [W.clone(), A.clone(), B.clone()]
    out = sub.merge_lora(W, A, B, alpha)
    assert isinstance(out, torch.Tensor) and out.shape == W.shape, (
        f"merge_lora must return a tensor of the weight's shape {tuple(W.shape)}, got "
        f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}"
    )
    for name, before, after in zip(["weight", "A", "B"], kept, [W, A, B]):
        assert torch.equal(before, after), f"merge_lora modified its input {name}: return a new tensor instead"
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=[f"out{o}_in{i}_r{r}" for o, i, r in SHAPES])
def test_values(sub, observe, device, gen, shape):
    """matches the reference for several shapes and ranks (alpha = 2.5)"""
    W, A, B = (t.to(device) for t in factors(gen, *shape))
    observe("merge_lora(W, A, B, alpha=2.5)", merged(sub, W, A, B, 2.5))


@pytest.mark.parametrize("alpha", [1.0, 4.0, 16.0])
def test_scale_is_alpha_over_r(sub, observe, device, gen, alpha):
    """scales B A by alpha / r (r = 4)"""
    W, A, B = (t.to(device) for t in factors(gen, 6, 5, 4))
    delta = merged(sub, W, A, B, alpha) - W
    observe(f"update for alpha={alpha}, r=4", delta)
    scale = (delta.flatten() @ (B @ A).flatten()) / (B @ A).flatten().square().sum()
    observe("scale of the update relative to B A", scale.item(), rtol=1e-9, atol=1e-12)


def test_rank_at_most_r(sub, observe, device, gen):
    """the update merged into the weight has rank r (here 2, in a 9 x 7 weight)"""
    W, A, B = (t.to(device) for t in factors(gen, 9, 7, 2))
    rank = int(torch.linalg.matrix_rank((merged(sub, W, A, B, 3.0) - W).cpu()))
    assert rank <= 2, f"the update W - W0 must be (alpha / r) B A, of rank at most r = 2; yours has rank {rank}"
    observe("rank of the update", rank)


def test_zero_B_keeps_weight(sub, observe, device, gen):
    """with B = 0 the merged weight equals the weight"""
    W, A, B = factors(gen, 4, 6, 3)
    out = merged(sub, W.to(device), A.to(device), torch.zeros_like(B).to(device), 8.0)
    same = bool(torch.equal(out.cpu(), W))
    assert same, "with B = 0 the update B A is zero: merge_lora must return the weight's values unchanged"
    observe("B = 0 leaves the weight", same)


def test_float32(sub, observe, device, gen):
    """keeps float32 and is differentiable in A and B"""
    W, A, B = factors(gen, 5, 6, 2, dtype=torch.float32)
    A, B = A.to(device).requires_grad_(), B.to(device).requires_grad_()
    out = merged(sub, W.to(device), A, B, 4.0)
    assert out.dtype == torch.float32, f"merge_lora must keep the dtype float32, got {out.dtype}"
    upstream = torch.randn(out.shape, generator=gen).to(device)
    (out * upstream).sum().backward()
    assert A.grad is not None and B.grad is not None, "the merged weight must be differentiable in A and B"
    observe("merged weight (float32)", out.detach())
    observe("grad A", A.grad)
    observe("grad B", B.grad)

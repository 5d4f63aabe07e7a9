"""Hidden tests of `dropout(x, p, training=True, generator=None)`: inverted dropout.

Each entry is kept with probability 1 - p and then scaled by 1 / (1 - p); identity when not
training or p == 0; zeros when p == 1. The mask is random, so the tests never compare masks with
the reference: they judge statistics over tens of thousands of entries (observed with tolerances
many standard deviations wide), exact invariants (kept entries equal x / (1 - p), the gradient
equals the mask / (1 - p)), and where the randomness comes from (the given generator only).
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("dropout")

helpers = load_helpers(__file__)
F64, randn = helpers.F64, helpers.randn


def fresh(seed):
    return torch.Generator().manual_seed(seed)


def new_seed(gen):
    """A seed drawn from gen: a generator seeded with gen's own seed would replay the numbers of x."""
    return int(torch.randint(0, 2**62, (1,), generator=gen))


@pytest.mark.parametrize("p", [0.1, 0.25, 0.7, 0.9])
def test_statistics(sub, observe, device, gen, p):
    """zeroes a fraction p of the entries, scales the kept ones by 1 / (1 - p), keeps the mean"""
    x = (1.0 + torch.rand(200, 150, generator=gen, dtype=F64)).to(device)  # no zeros in x
    out = sub.dropout(x, p, training=True, generator=fresh(new_seed(gen)))
    assert out.shape == x.shape, f"dropout output shape {tuple(out.shape)} should equal the input's"
    kept = out != 0
    frac = float((~kept).double().mean())
    assert abs(frac - p) < 0.05, (
        f"dropout(p={p}) zeroed {frac:.1%} of the entries; about {p:.0%} should be zeroed "
        "(keep each entry with probability 1 - p)"
    )
    scale = float((out[kept] / x[kept]).median()) if kept.any() else float("nan")
    assert torch.allclose(out[kept], x[kept] / (1 - p)), (
        f"kept entries must be scaled by 1 / (1 - p) = {1 / (1 - p):.4f} (inverted dropout); "
        f"they were scaled by {scale:.4f}"
    )
    observe("fraction zeroed", frac, atol=0.02)
    observe("mean of dropout(x) / mean of x", float(out.mean() / x.mean()), atol=0.05)


def test_independent_entries(sub, observe, device, gen):
    """draws an independent mask entry for every element (rows and columns differ)"""
    x = torch.ones(64, 64, dtype=F64).to(device)
    out = sub.dropout(x, 0.5, generator=fresh(new_seed(gen)))
    mask = out != 0
    rows_same = bool((mask == mask[:1]).all())
    cols_same = bool((mask == mask[:, :1]).all())
    assert not rows_same and not cols_same, (
        "every row (or column) of the mask is the same: draw one random number per element, with x's full shape"
    )
    observe("mask shared across rows or columns", rows_same or cols_same)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_eval_is_identity(sub, observe, device, gen, p):
    """returns x unchanged when training=False"""
    x = randn(gen, 5, 7).to(device)
    out = sub.dropout(x, p, training=False, generator=fresh(0))
    assert torch.equal(out, x), "dropout must be the identity when training=False (evaluation mode)"
    observe("dropout(x, training=False) equals x", True)


def test_p_zero_is_identity(sub, observe, device, gen):
    """returns x unchanged when p == 0"""
    x = randn(gen, 5, 7).to(device)
    out = sub.dropout(x, 0.0, training=True, generator=fresh(0))
    assert torch.equal(out, x), "dropout with p = 0 must return x unchanged"
    observe("dropout(x, 0) equals x", True)


def test_p_one_is_zero(sub, observe, device, gen):
    """returns all zeros (no nan) when p == 1"""
    x = randn(gen, 5, 7).to(device)
    out = sub.dropout(x, 1.0, training=True, generator=fresh(0))
    assert out.shape == x.shape, f"dropout output shape {tuple(out.shape)} should equal the input's"
    assert torch.isfinite(out).all() and (out == 0).all(), (
        "dropout with p = 1 must return zeros; scaling by 1 / (1 - p) divides by zero, so handle p == 1 separately"
    )
    observe("dropout(x, 1)", out)


def test_generator_is_the_only_randomness(sub, observe, device, gen):
    """draws only from the given generator: same generator state, same mask, whatever the global RNG"""
    x = randn(gen, 30, 40).to(device)
    seed = new_seed(gen)
    torch.manual_seed(seed + 1)
    a = sub.dropout(x, 0.4, generator=fresh(seed))
    torch.manual_seed(seed + 2)
    b = sub.dropout(x, 0.4, generator=fresh(seed))
    assert torch.equal(a, b), (
        "two calls with identically seeded generators gave different masks: draw every random number from the "
        "`generator` argument (torch.rand(..., generator=generator)), not from the global RNG"
    )
    g = fresh(seed)
    c, d = sub.dropout(x, 0.4, generator=g), sub.dropout(x, 0.4, generator=g)
    assert not torch.equal(c, d), "two calls with the same generator must advance it and give different masks"
    observe("reproducible from the generator", True)


def test_without_generator(sub, observe, device, gen):
    """works without a generator (global RNG)"""
    x = torch.ones(100, 100, dtype=F64).to(device)
    out = sub.dropout(x, 0.5)
    observe("fraction zeroed", float((out == 0).double().mean()), atol=0.05)


def test_gradient(sub, observe, device, gen):
    """passes the gradient mask / (1 - p) back to x"""
    p = 0.3
    x = (1.0 + torch.rand(20, 30, generator=gen, dtype=F64)).to(device).requires_grad_(True)
    out = sub.dropout(x, p, generator=fresh(new_seed(gen)))
    out.sum().backward()
    assert x.grad is not None, "no gradient reached x: keep dropout on the autograd graph"
    expected = (out.detach() != 0).to(F64) / (1 - p)
    ok = torch.allclose(x.grad, expected)
    kept = out.detach() != 0
    scale = float(x.grad[kept].median()) if kept.any() else float("nan")
    assert ok, (f"the gradient of dropout must be mask / (1 - p): 1 / (1 - p) = {1 / (1 - p):.4f} where kept, "
                f"0 where dropped; it is {scale:.4f} where kept")
    observe("gradient equals mask / (1 - p)", ok)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_dtype_and_shape(sub, observe, device, gen, dtype):
    """keeps the input's dtype and any shape"""
    x = randn(gen, 4, 3, 5, 6, dtype=dtype).to(device)
    out = sub.dropout(x, 0.5, generator=fresh(new_seed(gen)))
    assert out.shape == x.shape and out.dtype == dtype, (
        f"dropout of a {dtype} tensor of shape {tuple(x.shape)} returned {out.dtype} {tuple(out.shape)}"
    )
    observe("dtype", str(out.dtype))


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's 15 hidden and 2 public tests weigh 1 each), so that a dropout wrong in one part of its
# contract (the fraction dropped, the scale, evaluation mode, the generator) keeps at most a third; the tests
# above say which part.
@pytest.mark.question("dropout", weight=34)
def test_whole_contract(sub, observe, device, gen):
    """the fraction dropped and the scale, evaluation mode, p = 0 and p = 1, the generator, the gradient"""
    test_statistics(sub, observe, device, gen, 0.25)
    test_eval_is_identity(sub, observe, device, gen, 0.3)
    test_p_zero_is_identity(sub, observe, device, gen)
    test_p_one_is_zero(sub, observe, device, gen)
    test_generator_is_the_only_randomness(sub, observe, device, gen)
    test_gradient(sub, observe, device, gen)

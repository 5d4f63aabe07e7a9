"""Hidden tests of `apply_rope(x, positions, base=10000.0)`: rotary position embedding.

x (..., L, E) with E even, positions (L,); theta_i = base^(-2i/E) for i = 0..E/2-1; the
INTERLEAVED pair (x[2i], x[2i+1]) at position m is rotated by the angle m * theta_i:
(x0 cos - x1 sin, x0 sin + x1 cos). Same shape and dtype as x.

Exact properties are asserted with their own messages (position 0 is the identity, norms
are preserved, <R_m q, R_n k> depends only on m - n, the angle of pair i is m * theta_i).
Values are compared with a tolerance of about 1e-4, so angles computed in float32 are fine.
"""

import math

import pytest
import torch

from autograder.testing import expect_close, expect_equal

pytestmark = pytest.mark.question("rope")

F64 = torch.float64
TOL = dict(rtol=1e-4, atol=2e-4)


def randn(gen, *shape, dtype=torch.float32):
    return torch.randn(*shape, generator=gen, dtype=F64).to(dtype)


def check(out, x):
    assert isinstance(out, torch.Tensor), "apply_rope must return a tensor"
    assert out.shape == x.shape, f"apply_rope must keep x's shape {tuple(x.shape)}, got {tuple(out.shape)}"
    assert out.dtype == x.dtype, f"apply_rope must keep x's dtype {x.dtype}, got {out.dtype}"


SHAPES = {"L6_E8": (6, 8), "batch": (2, 5, 4), "batch_heads": (2, 3, 5, 16), "E2": (4, 2)}


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_values(sub, observe, device, shape):
    """matches the reference at positions 0..L-1"""
    gen = torch.Generator().manual_seed(301)
    x = randn(gen, *shape).to(device)
    out = sub.apply_rope(x, torch.arange(shape[-2]).to(device))
    check(out, x)
    observe("apply_rope(x, arange(L))", out, **TOL)


@pytest.mark.parametrize("base", [100.0, 500000.0])
def test_base(sub, observe, device, base):
    """uses the base it is given"""
    gen = torch.Generator().manual_seed(302)
    x = randn(gen, 2, 5, 8).to(device)
    out = sub.apply_rope(x, torch.arange(5).to(device), base=base)
    check(out, x)
    observe(f"apply_rope(x, arange(5), base={base:g})", out, **TOL)


def test_interleaved_pairs(sub, observe, device):
    """rotates the interleaved pairs (x[2i], x[2i+1]), not the halves (x[i], x[i + E/2])"""
    E = 8
    x = torch.eye(E)  # row r is the unit vector e_r, each at its own position 1
    pos = torch.ones(E)
    out = sub.apply_rope(x.to(device), pos.to(device)).cpu()
    check(out, x)
    for r in range(E):
        partner = r + 1 if r % 2 == 0 else r - 1
        elsewhere = out[r].clone()
        elsewhere[[r, partner]] = 0
        assert elsewhere.abs().max() < 1e-6 and abs(out[r, partner]) > 1e-4, (
            f"apply_rope moved e_{r} onto dims {torch.nonzero(out[r].abs() > 1e-6).flatten().tolist()}: a rotation "
            f"of the interleaved pair ({2 * (r // 2)}, {2 * (r // 2) + 1}) only mixes those two dims. This assignment "
            "pairs x[2i] with x[2i+1] (Meta's convention), not x[i] with x[i + E/2] (the rotate-half convention)"
        )
    observe("apply_rope(e_r, position 1)", out, **TOL)


def test_frequencies(sub, observe, device):
    """rotates pair i by the angle m * base^(-2i/E)"""
    E, m = 8, 3
    x = torch.zeros(1, E)
    x[0, 0::2] = 1.0  # every pair is (1, 0): its rotated version is (cos a, sin a)
    out = sub.apply_rope(x.to(device), torch.tensor([m]).to(device))
    check(out, x)
    out = out.double().cpu()
    angles = torch.atan2(out[0, 1::2], out[0, 0::2])
    want = torch.tensor([math.remainder(m * 10000.0 ** (-2 * i / E), 2 * math.pi) for i in range(E // 2)], dtype=F64)
    expect_close(
        angles, want,
        (f"at position {m} the pairs (1, 0) were rotated by the angles {angles.tolist()} (radians), expected "
        f"m * theta_i = {want.tolist()} with theta_i = base^(-2i/E), i = 0..E/2-1. The rotated pair is "
        "(x0 cos - x1 sin, x0 sin + x1 cos), i.e. counter-clockwise"),
        atol=1e-4
    )
    observe("angles of the rotated pairs", angles, atol=1e-4)


def test_position_zero_is_identity(sub, observe, device):
    """leaves x unchanged at position 0"""
    gen = torch.Generator().manual_seed(303)
    x = randn(gen, 2, 3, 8).to(device)
    out = sub.apply_rope(x, torch.zeros(3, dtype=torch.long).to(device))
    check(out, x)
    same = bool(torch.allclose(out, x, atol=1e-6))
    expect_close(
        out, x,
        "R_0 is the identity: at position 0 every angle is 0, so x must come back unchanged",
        atol=1e-6
    )
    observe("apply_rope at position 0 equals x", same)


def test_norms_preserved(sub, observe, device):
    """preserves the norm of every pair (a rotation)"""
    gen = torch.Generator().manual_seed(304)
    x = randn(gen, 2, 7, 16, dtype=F64).to(device)
    out = sub.apply_rope(x, torch.arange(7).to(device))
    check(out, x)
    pair_norms = out.reshape(2, 7, 8, 2).norm(dim=-1)
    expect_close(
        pair_norms, x.reshape(2, 7, 8, 2).norm(dim=-1),
        "RoPE rotates each pair (x[2i], x[2i+1]), which preserves its length; yours changed some lengths",
        rtol=1e-5
    )
    observe("norms of the pairs", pair_norms, rtol=1e-5, atol=1e-6)


def test_relative_positions(sub, observe, device):
    """<R_m q, R_n k> depends only on m - n"""
    gen = torch.Generator().manual_seed(305)
    q, k = randn(gen, 1, 16, dtype=F64).to(device), randn(gen, 1, 16, dtype=F64).to(device)

    def score(m, n):
        rq = sub.apply_rope(q, torch.tensor([m]).to(device))
        rk = sub.apply_rope(k, torch.tensor([n]).to(device))
        return float((rq * rk).sum())

    for offset in [0, 3, -2]:
        scores = [score(n + offset, n) for n in [0, 5, 17]]
        assert max(scores) - min(scores) < 1e-4, (
            f"<R_m q, R_n k> must depend only on m - n; with m - n = {offset} it took the values {scores}. "
            "Each position needs the same rotation of every pair for q and k"
        )
        observe(f"<R_m q, R_n k> for m - n = {offset}", scores[0], rtol=1e-4, atol=1e-4)


def test_float_positions(sub, observe, device):
    """accepts float positions"""
    gen = torch.Generator().manual_seed(306)
    x = randn(gen, 4, 8).to(device)
    pos = torch.tensor([0.5, 1.25, 3.0, 10.75]).to(device)
    out = sub.apply_rope(x, pos)
    check(out, x)
    observe("apply_rope(x, float positions)", out, **TOL)


def test_offset_positions(sub, observe, device):
    """uses the positions it is given, not 0..L-1"""
    gen = torch.Generator().manual_seed(307)
    x = randn(gen, 2, 3, 8).to(device)
    out = sub.apply_rope(x, (20 + torch.arange(3)).to(device))
    check(out, x)
    shifted = sub.apply_rope(x, torch.arange(3).to(device))
    assert not torch.allclose(out, shifted), (
        "apply_rope gave the same result at positions 20, 21, 22 as at 0, 1, 2: use `positions`, "
        "not torch.arange(L) (a KV cache continues from the cached length)"
    )
    observe("apply_rope(x, [20, 21, 22])", out, **TOL)


@pytest.mark.parametrize("dtype", [torch.float32, F64, torch.bfloat16], ids=["float32", "float64", "bfloat16"])
def test_dtypes(sub, observe, device, dtype):
    """keeps x's dtype"""
    gen = torch.Generator().manual_seed(308)
    x = randn(gen, 2, 4, 8, dtype=dtype).to(device)
    out = sub.apply_rope(x, torch.arange(4).to(device))
    check(out, x)
    observe("dtype", str(out.dtype))
    tol = dict(rtol=3e-2, atol=3e-2) if dtype == torch.bfloat16 else TOL
    observe("apply_rope(x)", out, **tol)


def test_gradient(sub, observe, device):
    """is differentiable (gradient with a random upstream gradient)"""
    gen = torch.Generator().manual_seed(309)
    x = randn(gen, 2, 4, 8).to(device).requires_grad_(True)
    upstream = randn(gen, 2, 4, 8).to(device)
    out = sub.apply_rope(x, torch.arange(4).to(device))
    assert out.requires_grad, "apply_rope's output must stay on the autograd graph"
    (out * upstream).sum().backward()
    observe("x.grad", x.grad, **TOL)


def test_does_not_modify_input(sub, observe, device):
    """leaves x unchanged"""
    gen = torch.Generator().manual_seed(310)
    x = randn(gen, 3, 8).to(device)
    before = x.clone()
    out = sub.apply_rope(x, torch.arange(3).to(device))
    expect_equal(
        x, before,
        ("apply_rope modified x in place (e.g. x[..., 0::2] = ...): return a new tensor; attention still "
        "needs the unrotated input when it is reused"),
    )
    observe("apply_rope(x)", out, **TOL)


def test_rejects_bad_input(sub, observe, device):
    """raises ValueError for an odd last dim or positions that are not of shape (L,)"""
    gen = torch.Generator().manual_seed(311)
    with pytest.raises(ValueError):
        sub.apply_rope(randn(gen, 4, 5).to(device), torch.arange(4).to(device))
    observe("odd E raises ValueError", True)
    with pytest.raises(ValueError):
        sub.apply_rope(randn(gen, 4, 6).to(device), torch.arange(3).to(device))
    observe("3 positions for L = 4 raises ValueError", True)
    with pytest.raises(ValueError):
        sub.apply_rope(randn(gen, 4, 6).to(device), torch.arange(4)[None].to(device))
    observe("positions of shape (1, 4) raises ValueError", True)
    x = randn(gen, 4, 6).to(device)
    observe("apply_rope(x, arange(4))", sub.apply_rope(x, torch.arange(4).to(device)), **TOL)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that RoPE wrong on every input of one kind (another base, offset positions, x changed in place)
# keeps at most a third; the tests above say which kind.
@pytest.mark.question("rope", weight=44)
def test_whole_contract(sub, observe, device):
    """values, the base given, interleaved pairs and their angles, given (offset, float) positions, x unchanged"""
    test_values(sub, observe, device, SHAPES["batch_heads"])
    test_base(sub, observe, device, 100.0)
    test_interleaved_pairs(sub, observe, device)
    test_frequencies(sub, observe, device)
    test_position_zero_is_identity(sub, observe, device)
    test_relative_positions(sub, observe, device)
    test_float_positions(sub, observe, device)
    test_offset_positions(sub, observe, device)
    test_dtypes(sub, observe, device, F64)
    test_gradient(sub, observe, device)
    test_does_not_modify_input(sub, observe, device)
    test_rejects_bad_input(sub, observe, device)

"""Hidden tests of `scaled_dot_product_attention(q, k, v, mask=None, is_causal=False)`.

scores = q k^T / sqrt(E) with E = q.shape[-1]; a boolean mask keeps the scores where it is
True (the others become -inf), a float mask is added; is_causal is LOWER-RIGHT aligned:
query i may attend key j iff j <= i + S - L (the last query is the newest token and sees
every key; for L == S this is torch's top-left is_causal). Mask and is_causal combine.
out = softmax(scores, dim=-1) @ v, of shape (..., L, Ev).

While these tests run, the name `softmax` your attention calls is pointed at torch's
softmax, so that a mistake in your softmax costs points only on that question.
Inputs are float64 so that any wrong scale or mask shows, however small.
"""

import math

import pytest
import torch

from autograder.testing import expect_close, expect_equal, substitute

pytestmark = pytest.mark.question("attention")

F64 = torch.float64


def trusted_softmax(x, dim=-1):
    """A correct softmax standing in for yours (torch.softmax itself is off limits in this question)."""
    e = (x - x.amax(dim=dim, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def attend(sub, *args, **kwargs):
    with substitute(sub, softmax=trusted_softmax):
        return sub.scaled_dot_product_attention(*args, **kwargs)


def randn(gen, *shape, scale=1.0):
    return scale * torch.randn(*shape, generator=gen, dtype=F64)


def qkv(gen, lead, L, S, E, Ev=None, scale=1.5):
    Ev = E if Ev is None else Ev
    return randn(gen, *lead, L, E, scale=scale), randn(gen, *lead, S, E, scale=scale), randn(gen, *lead, S, Ev)


def check_shape(out, q, v):
    want = (*q.shape[:-1], v.shape[-1])
    assert isinstance(out, torch.Tensor), "scaled_dot_product_attention must return a tensor"
    assert tuple(out.shape) == want, (
        f"the output must have shape (..., L, Ev) = {want}, got {tuple(out.shape)}"
    )


SHAPES = {
    "L4_S4": ((), 4, 4, 8),
    "L3_S6": ((), 3, 6, 8),
    "L6_S3": ((2,), 6, 3, 4),
    "batch_heads": ((2, 3), 5, 7, 4),
    "E16": ((2,), 4, 5, 16),
    "E1": ((2,), 3, 3, 1),
}


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_values(sub, observe, device, shape):
    """matches the reference without a mask (any L and S, leading batch and head dims)"""
    lead, L, S, E = shape
    gen = torch.Generator().manual_seed(201)
    q, k, v = (t.to(device) for t in qkv(gen, lead, L, S, E))
    out = attend(sub, q, k, v)
    check_shape(out, q, v)
    observe("attention(q, k, v)", out)


def test_value_dim_differs(sub, observe, device):
    """returns (..., L, Ev) when v's last dim differs from E"""
    gen = torch.Generator().manual_seed(202)
    q, k, v = (t.to(device) for t in qkv(gen, (2,), 4, 6, 8, Ev=3))
    out = attend(sub, q, k, v)
    check_shape(out, q, v)
    observe("attention(q, k, v) with Ev = 3", out)
    out = attend(sub, q, k, v, is_causal=True)
    observe("causal attention(q, k, v) with Ev = 3", out)


def test_scale(sub, observe, device):
    """divides the scores by sqrt(E) with E = q.shape[-1] (E = 16)"""
    E = 16
    q = torch.ones(1, E, dtype=F64)
    k = torch.stack([0.1 * torch.ones(E, dtype=F64), torch.zeros(E, dtype=F64)])  # scores 1.6 and 0
    v = torch.tensor([[1.0], [0.0]], dtype=F64)
    out = attend(sub, q.to(device), k.to(device), v.to(device))
    weight = float(out.reshape(-1)[0])
    want = 1 / (1 + math.exp(-1.6 / math.sqrt(E)))  # softmax([0.4, 0])[0]
    assert abs(weight - want) < 1e-9, (
        f"q.k = 1.6 for the first key and 0 for the second, so with E = 16 the scaled scores are 0.4 and 0 and "
        f"the first key's weight is {want:.6f}; yours gives {weight:.6f}. Scale the scores by 1 / sqrt(E) "
        "(E = q.shape[-1], the head dim: not 1 / E, not the value dim)"
    )
    observe("weight of the first key", weight)


MASKS = ["L_S", "padding", "full", "with_heads_broadcast"]


def bool_mask(gen, kind, B, H, L, S):
    if kind == "L_S":
        m = torch.rand(L, S, generator=gen) < 0.6
    elif kind == "padding":  # (B, 1, 1, S): the last keys of each sequence are padding
        lengths = torch.tensor([S, S - 2])
        m = (torch.arange(S)[None, :] < lengths[:, None])[:, None, None, :]
    elif kind == "full":
        m = torch.rand(B, H, L, S, generator=gen) < 0.5
    else:  # (B, 1, L, S)
        m = torch.rand(B, 1, L, S, generator=gen) < 0.5
    m = m.clone()
    m[..., 0] = True  # every query keeps at least one key
    return m


@pytest.mark.parametrize("kind", MASKS)
def test_bool_mask(sub, observe, device, kind):
    """keeps the scores where a boolean mask is True (masks broadcast to (..., L, S))"""
    gen = torch.Generator().manual_seed(203)
    B, H, L, S, E = 2, 3, 4, 6, 8
    q, k, v = qkv(gen, (B, H), L, S, E)
    mask = bool_mask(gen, kind, B, H, L, S)
    out = attend(sub, q.to(device), k.to(device), v.to(device), mask=mask.to(device))
    check_shape(out, q, v)
    # values at keys no query may see must not matter
    full = mask.expand(B, H, L, S)
    hidden = ~full.any(dim=2)  # (B, H, S): keys masked for every query
    v2 = v.clone()
    v2[hidden] = 1e3
    out2 = attend(sub, q.to(device), k.to(device), v2.to(device), mask=mask.to(device))
    unchanged = bool(torch.allclose(out2, out))
    expect_close(
        out2, out,
        ("changing the values of keys that the mask hides (mask False) changed the output: "
        "True in a boolean mask means 'may attend'; scores where the mask is False must become -inf"),
    )
    observe("masked keys ignored", unchanged)
    observe("attention with a boolean mask", out)


@pytest.mark.parametrize("with_inf", [False, True], ids=["finite", "some_minus_inf"])
def test_float_mask(sub, observe, device, with_inf):
    """adds a float mask to the scores"""
    gen = torch.Generator().manual_seed(204)
    q, k, v = qkv(gen, (2,), 4, 5, 8)
    mask = randn(gen, 4, 5, scale=2.0)
    if with_inf:
        mask[0, 1] = mask[2, 0] = mask[2, 4] = mask[3, 3] = float("-inf")
    out = attend(sub, q.to(device), k.to(device), v.to(device), mask=mask.to(device))
    check_shape(out, q, v)
    assert torch.isfinite(out).all(), "a float mask is added to the scores; -inf entries get weight 0, not NaN"
    observe("attention with a float mask", out)


def test_float_zero_mask(sub, observe, device):
    """treats a float mask of zeros as no mask (a float mask is added, not used as a boolean)"""
    gen = torch.Generator().manual_seed(205)
    q, k, v = (t.to(device) for t in qkv(gen, (2,), 3, 4, 8))
    out = attend(sub, q, k, v, mask=torch.zeros(3, 4, dtype=F64, device=device))
    plain = attend(sub, q, k, v)
    same = bool(torch.allclose(out, plain))
    expect_close(
        out, plain,
        ("a float mask of zeros changed the output: a float mask is ADDED to the scores (0 changes nothing); "
        "only a boolean mask (mask.dtype == torch.bool) selects"),
    )
    observe("zero float mask changes nothing", same)
    observe("attention", out)


@pytest.mark.parametrize("L", [1, 4, 6])
def test_causal_square(sub, observe, device, L):
    """is_causal with L == S matches torch's is_causal (query i sees keys 0..i)"""
    gen = torch.Generator().manual_seed(206)
    q, k, v = (t.to(device) for t in qkv(gen, (2, 2), L, L, 8))
    out = attend(sub, q, k, v, is_causal=True)
    check_shape(out, q, v)
    for i in range(L):
        row = attend(sub, q[..., i : i + 1, :], k[..., : i + 1, :], v[..., : i + 1, :])
        expect_close(
            out[..., i : i + 1, :], row,
            (f"with L == S, causal attention lets query i attend exactly keys 0..i (here query {i}: keys 0..{i}), "
            "as torch's is_causal=True does; check the mask's diagonal (j <= i, not j < i) and its orientation"),
            rtol=1e-6, atol=1e-9
        )
    observe("causal attention, L == S", out)


@pytest.mark.parametrize("L,S", [(1, 6), (3, 7), (2, 5), (5, 6)], ids=["L1_S6", "L3_S7", "L2_S5", "L5_S6"])
def test_causal_lower_right(sub, observe, device, L, S):
    """is_causal with L < S is lower-right aligned: query i sees keys 0..i + S - L"""
    gen = torch.Generator().manual_seed(207)
    q, k, v = (t.to(device) for t in qkv(gen, (2,), L, S, 8))
    out = attend(sub, q, k, v, is_causal=True)
    check_shape(out, q, v)
    for i in range(L):
        visible = i + S - L + 1
        row = attend(sub, q[:, i : i + 1], k[:, :visible], v[:, :visible])
        expect_close(
            out[:, i : i + 1], row,
            f"with L = {L} queries and S = {S} keys, query {i} is the token at position {i + S - L} and must "
            f"attend exactly keys 0..{i + S - L} (lower-right alignment: j <= i + S - L). "
            + ("One new query with a cache of keys attends ALL of them. " if L == 1 else "")
            + "torch's is_causal is top-left aligned (j <= i), which is wrong when L != S",
            rtol=1e-6, atol=1e-9
        )
    observe("causal attention, L < S", out)


def test_causal_suffix_equals_full(sub, observe, device):
    """the last 3 queries against all 7 keys equal the last 3 rows of full causal attention"""
    gen = torch.Generator().manual_seed(208)
    q, k, v = (t.to(device) for t in qkv(gen, (2, 2), 7, 7, 4))
    full = attend(sub, q, k, v, is_causal=True)
    tail = attend(sub, q[..., 4:, :], k, v, is_causal=True)
    same = bool(torch.allclose(tail, full[..., 4:, :], rtol=1e-6, atol=1e-9))
    expect_close(
        tail, full[..., 4:, :],
        ("attending with only the last 3 queries (as a KV cache does) must give the last 3 rows of the full "
        "causal attention: use the lower-right mask j <= i + S - L"),
        rtol=1e-6, atol=1e-9
    )
    observe("suffix equals full", same)
    observe("tail", tail)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("L,S", [(4, 4), (3, 6)], ids=["L4_S4", "L3_S6"])
def test_mask_and_causal(sub, observe, device, kind, L, S):
    """combines a mask with is_causal (both apply)"""
    gen = torch.Generator().manual_seed(209)
    q, k, v = qkv(gen, (2, 2), L, S, 8)
    if kind == "bool":
        mask = torch.rand(L, S, generator=gen) < 0.5
        mask[:, 0] = True  # key 0 stays visible to every query under the causal mask too
    else:
        mask = randn(gen, L, S, scale=2.0)
    out = attend(sub, q.to(device), k.to(device), v.to(device), mask=mask.to(device), is_causal=True)
    check_shape(out, q, v)
    assert torch.isfinite(out).all(), "mask + is_causal produced NaN although every query keeps key 0"
    observe(f"attention with a {kind} mask and is_causal", out)


def test_two_dims(sub, observe, device):
    """works without batch dims: q (L, E), k (S, E), v (S, Ev)"""
    gen = torch.Generator().manual_seed(210)
    q, k, v = (t.to(device) for t in qkv(gen, (), 3, 5, 6, Ev=2))
    out = attend(sub, q, k, v, is_causal=True)
    check_shape(out, q, v)
    observe("attention of 2-D inputs", out)


def test_gradient(sub, observe, device):
    """is differentiable in q, k and v, with a mask and is_causal (no NaN from -inf scores)"""
    gen = torch.Generator().manual_seed(211)
    q, k, v = qkv(gen, (2,), 4, 6, 8)
    mask = torch.rand(4, 6, generator=gen) < 0.6
    mask[:, 0] = True
    upstream = randn(gen, 2, 4, 8)
    q, k, v = (t.to(device).requires_grad_(True) for t in (q, k, v))
    out = attend(sub, q, k, v, mask=mask.to(device), is_causal=True)
    (out * upstream.to(device)).sum().backward()
    for name, t in (("q", q), ("k", k), ("v", v)):
        assert t.grad is not None, f"no gradient reached {name}: keep the computation on the autograd graph"
        assert torch.isfinite(t.grad).all(), f"the gradient of {name} has NaN: masked scores must be -inf, not NaN"
        observe(f"{name}.grad", t.grad)


def test_float32(sub, observe, device):
    """keeps float32"""
    gen = torch.Generator().manual_seed(212)
    q, k, v = (t.float().to(device) for t in qkv(gen, (2,), 3, 5, 8))
    out = attend(sub, q, k, v, is_causal=True)
    check_shape(out, q, v)
    assert out.dtype == torch.float32, f"float32 inputs must give a float32 output, got {out.dtype}"
    observe("attention in float32", out)


def test_does_not_modify_inputs(sub, observe, device):
    """leaves q, k, v and the mask unchanged"""
    gen = torch.Generator().manual_seed(213)
    q, k, v = (t.to(device) for t in qkv(gen, (2,), 3, 5, 8))
    mask = (torch.rand(3, 5, generator=gen) < 0.5).to(device)
    mask[:, 0] = True
    before = [t.clone() for t in (q, k, v, mask)]
    out = attend(sub, q, k, v, mask=mask, is_causal=True)
    for name, t, b in zip(("q", "k", "v", "mask"), (q, k, v, mask), before):
        expect_equal(t, b, f"attention modified its input {name} in place; work on new tensors")
    observe("attention", out)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that attention wrong on every input of one kind (a mask, is_causal with L < S, both at once, a value
# dim that differs) keeps at most a third; the tests above say which kind.
@pytest.mark.question("attention", weight=76)
def test_whole_contract(sub, observe, device):
    """no mask, Ev != E, the scale, boolean and float masks, causal (L == S and L < S), mask with causal, gradients"""
    test_values(sub, observe, device, SHAPES["L6_S3"])
    test_value_dim_differs(sub, observe, device)
    test_scale(sub, observe, device)
    test_bool_mask(sub, observe, device, "with_heads_broadcast")
    test_float_mask(sub, observe, device, True)
    test_float_zero_mask(sub, observe, device)
    test_causal_square(sub, observe, device, 4)
    test_causal_lower_right(sub, observe, device, 3, 7)
    test_mask_and_causal(sub, observe, device, "bool", 3, 6)
    test_mask_and_causal(sub, observe, device, "float", 4, 4)
    test_two_dims(sub, observe, device)
    test_gradient(sub, observe, device)
    test_float32(sub, observe, device)
    test_does_not_modify_inputs(sub, observe, device)

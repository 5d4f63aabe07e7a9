"""Hidden tests of `MultiHeadAttention(d_model, n_heads, rope=False, rope_base=10000.0, bias=True)`.

Parameters: qkv = nn.Linear(D, 3D) whose output features are [q | k | v], each split into
heads contiguously (head h = features h*hd:(h+1)*hd); proj = nn.Linear(D, D).
forward(x, mask=None, is_causal=False, kv_cache=None) -> (y, (k, v)): k, v are (B, nh, S, hd)
with the new keys and values appended to the cached ones along dim 2; with rope, q and k are
rotated at positions S_past + arange(L) before caching; y is (B, L, D).

Weights are loaded through the documented parameter names, so every implementation starts
from the same numbers. While these tests run, the names `scaled_dot_product_attention`,
`apply_rope` and `softmax` that your class calls are pointed at trusted stand-ins
(attention written with einsum and a lower-right mask, RoPE through complex multiplication),
so that a mistake in those questions costs points only there.
"""

import math

import pytest
import torch

from autograder.testing import expect_close, substitute

pytestmark = pytest.mark.question("mha")


# --------------------------------------------------------------------------- trusted stand-ins


def trusted_softmax(x, dim=-1):
    """torch's softmax."""
    return torch.softmax(x, dim=dim)


def trusted_attention(q, k, v, mask=None, is_causal=False):
    """Attention written with einsum; is_causal lower-right (query i sees keys j <= i + S - L)."""
    L, S = q.shape[-2], k.shape[-2]
    scores = torch.einsum("...le,...se->...ls", q, k) / math.sqrt(q.shape[-1])
    if is_causal:
        i = torch.arange(L, device=q.device)[:, None]
        j = torch.arange(S, device=q.device)[None, :]
        scores = scores.masked_fill(j > i + (S - L), float("-inf"))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    return torch.einsum("...ls,...sv->...lv", torch.softmax(scores, dim=-1), v)


def trusted_rope(x, positions, base=10000.0):
    """RoPE on interleaved pairs as a complex multiplication: (x0 + i x1) * exp(i m theta)."""
    E = x.shape[-1]
    theta = base ** (-torch.arange(0, E, 2, dtype=torch.float64) / E)
    angles = positions.detach().to("cpu", torch.float64)[:, None] * theta  # (L, E/2)
    rotation = torch.polar(torch.ones_like(angles), angles).to(x.device)
    pairs = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], E // 2, 2).contiguous())
    return torch.view_as_real(pairs * rotation).reshape(x.shape).to(x.dtype)


def standins(sub):
    return substitute(sub, softmax=trusted_softmax, scaled_dot_product_attention=trusted_attention,
                      apply_rope=trusted_rope)


# --------------------------------------------------------------------------- fixed weights


def linear_weights(gen, prefix, n_in, n_out, bias=True, scale=1.0):
    w = {f"{prefix}weight": scale * torch.randn(n_out, n_in, generator=gen) / math.sqrt(n_in)}
    if bias:
        w[f"{prefix}bias"] = 0.2 * torch.randn(n_out, generator=gen)
    return w


def mha_weights(gen, D, bias=True, prefix=""):
    return {**linear_weights(gen, f"{prefix}qkv.", D, 3 * D, bias, scale=1.5),
            **linear_weights(gen, f"{prefix}proj.", D, D, bias)}


def load_weights(module, weights, what):
    """Copy fixed tensors into the module's parameters, found by their documented names."""
    params = dict(module.named_parameters())
    missing = [n for n in weights if n not in params]
    assert not missing, (
        f"{what} has no parameter(s) {missing}; the tests load weights through the documented names "
        f"{sorted(weights)}, yours has {sorted(params)}"
    )
    extra = [n for n in params if n not in weights]
    assert not extra, f"{what} has parameters the assignment does not describe: {extra}"
    with torch.no_grad():
        for n, w in weights.items():
            assert tuple(params[n].shape) == tuple(w.shape), (
                f"{what}.{n} has shape {tuple(params[n].shape)}, expected {tuple(w.shape)}"
            )
            params[n].copy_(w)


def build(sub, device, D=16, H=4, seed=0, bias=True, **kwargs):
    gen = torch.Generator().manual_seed(400 + seed)
    with standins(sub):
        m = sub.MultiHeadAttention(D, H, bias=bias, **kwargs)
    load_weights(m, mha_weights(gen, D, bias), "MultiHeadAttention")
    return m.to(device)


def run(sub, m, x, **kwargs):
    with standins(sub):
        out = m(x, **kwargs)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (y, (k, v))"
    y, cache = out
    assert isinstance(cache, tuple) and len(cache) == 2, "forward must return the cache as a tuple (k, v)"
    return y, cache


def inputs(seed, *shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def check_shapes(x, y, cache, S):
    B, L, D = x.shape
    assert tuple(y.shape) == (B, L, D), f"y must have shape (B, L, D) = {(B, L, D)}, got {tuple(y.shape)}"
    k, v = cache
    assert k.dim() == 4 and k.shape[0] == B and k.shape[2] == S, (
        f"the cached keys must have shape (B, n_heads, S, head_dim) with S = {S} (past + new), got {tuple(k.shape)}"
    )
    assert v.shape == k.shape, f"cached values {tuple(v.shape)} and keys {tuple(k.shape)} must have the same shape"


# --------------------------------------------------------------------------- tests


def test_rejects_bad_arguments(sub, observe, device):
    """raises ValueError when d_model % n_heads != 0, or with rope and an odd head dim"""
    with standins(sub):
        with pytest.raises(ValueError):
            sub.MultiHeadAttention(10, 3)
        observe("d_model=10, n_heads=3 raises ValueError", True)
        with pytest.raises(ValueError):
            sub.MultiHeadAttention(6, 2, rope=True)
        observe("rope with head_dim=3 raises ValueError", True)
        m = sub.MultiHeadAttention(6, 2)  # an odd head dim is fine without rope
    load_weights(m, mha_weights(torch.Generator().manual_seed(409), 6), "MultiHeadAttention")
    with standins(sub):
        y, _ = m.to(device)(inputs(91, 1, 3, 6).to(device))
    observe("y with head_dim=3 and no rope", y)


CONFIGS = {
    "plain": ({}, {}),
    "causal": ({}, {"is_causal": True}),
    "bool_mask": ({}, {"mask": "bool"}),
    "float_mask": ({}, {"mask": "float"}),
    "rope": ({"rope": True}, {}),
    "rope_causal": ({"rope": True}, {"is_causal": True}),
    "rope_base_100": ({"rope": True, "rope_base": 100.0}, {"is_causal": True}),
    "two_heads": ({"n_heads": 2}, {"is_causal": True}),
    "eight_heads": ({"n_heads": 8}, {}),
}


def make_mask(kind, L, S, seed):
    gen = torch.Generator().manual_seed(seed)
    if kind == "bool":
        m = torch.rand(L, S, generator=gen) < 0.5
        m[:, 0] = True
        return m
    return 2 * torch.randn(2, 1, L, S, generator=gen)


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_values(sub, observe, device, config):
    """matches the reference with fixed weights (masks, is_causal, rope, head counts)"""
    init, call = config
    init, call = dict(init), dict(call)
    H = init.pop("n_heads", 4)
    m = build(sub, device, D=16, H=H, seed=1, **init)
    x = inputs(11, 2, 6, 16).to(device)
    if "mask" in call:
        call["mask"] = make_mask(call["mask"], 6, 6, 12).to(device)
    y, (k, v) = run(sub, m, x, **call)
    check_shapes(x, y, (k, v), 6)
    observe("y", y)
    observe("k", k)
    observe("v", v)


def test_head_split(sub, observe, device):
    """splits k and v into heads contiguously: head h holds features h*hd:(h+1)*hd of [q | k | v]"""
    D, H = 12, 3
    hd = D // H
    m = build(sub, device, D=D, H=H, seed=2)
    x = inputs(21, 2, 5, D).to(device)
    y, (k, v) = run(sub, m, x)
    with torch.no_grad():
        qkv = x @ m.qkv.weight.T + m.qkv.bias  # (B, L, 3D): [q | k | v]
        want_k = qkv[..., D : 2 * D].reshape(2, 5, H, hd).transpose(1, 2)
        want_v = qkv[..., 2 * D :].reshape(2, 5, H, hd).transpose(1, 2)
    assert tuple(k.shape) == (2, H, 5, hd), (
        f"k must have shape (B, n_heads, L, head_dim) = {(2, H, 5, hd)}, got {tuple(k.shape)}"
    )
    ok_k = bool(torch.allclose(k, want_k, atol=1e-5))
    ok_v = bool(torch.allclose(v, want_v, atol=1e-5))
    assert ok_k and ok_v, (
        "the returned (k, v) are not the key/value features split into heads: qkv's output is [q | k | v] "
        "(chunks of D features, in that order), and each chunk is viewed as (B, L, n_heads, head_dim) then "
        "transposed to (B, n_heads, L, head_dim), so head h holds features h*hd:(h+1)*hd"
    )
    observe("k split into heads", ok_k)
    observe("v split into heads", ok_v)
    observe("y", y)


def test_cache_shapes(sub, observe, device):
    """returns (k, v) of shape (B, n_heads, S_past + L, head_dim)"""
    m = build(sub, device, D=16, H=4, seed=3, rope=True)
    x = inputs(31, 2, 5, 16).to(device)
    y, (k, v) = run(sub, m, x, is_causal=True)
    check_shapes(x, y, (k, v), 5)
    observe("cache shapes without a past", [list(k.shape), list(v.shape)])
    past = (inputs(32, 2, 4, 3, 4).to(device), inputs(33, 2, 4, 3, 4).to(device))
    x2 = inputs(34, 2, 2, 16).to(device)
    y2, (k2, v2) = run(sub, m, x2, is_causal=True, kv_cache=past)
    check_shapes(x2, y2, (k2, v2), 5)
    assert torch.equal(k2[:, :, :3], past[0]) and torch.equal(v2[:, :, :3], past[1]), (
        "the returned cache must start with the cached keys and values, unchanged, followed by the new ones "
        "(torch.cat along dim 2)"
    )
    observe("cache shapes with a past of 3", [list(k2.shape), list(v2.shape)])


@pytest.mark.parametrize("rope", [False, True], ids=["no_rope", "rope"])
def test_chunked_equals_full(sub, observe, device, rope):
    """causal forward in chunks of 3, 1 and 2 with the cache equals one full forward"""
    m = build(sub, device, D=16, H=4, seed=4, rope=rope)
    x = inputs(41, 2, 6, 16).to(device)
    full, (kf, vf) = run(sub, m, x, is_causal=True)
    cache, ys = None, []
    for a, b in [(0, 3), (3, 4), (4, 6)]:
        y, cache = run(sub, m, x[:, a:b], is_causal=True, kv_cache=cache)
        ys.append(y)
    chunked = torch.cat(ys, dim=1)
    same = bool(torch.allclose(chunked, full, rtol=1e-4, atol=1e-5))
    expect_close(
        chunked, full,
        "decoding in chunks with the KV cache must give the same outputs as one full causal forward: append "
        "the new k, v to the cache along dim 2"
        + (", and rotate the new q and k at positions S_past + arange(L) (not 0..L-1)" if rope else ""),
        rtol=1e-4, atol=1e-5
    )
    observe("chunked equals full", same)
    observe("chunked y", chunked)
    observe("final cached k", cache[0])


def test_rope_positions_offset(sub, observe, device):
    """rotates the new q and k at positions S_past + arange(L) and caches the rotated k"""
    m = build(sub, device, D=16, H=4, seed=5, rope=True)
    past = (inputs(51, 1, 4, 4, 4).to(device), inputs(52, 1, 4, 4, 4).to(device))
    x = inputs(53, 1, 2, 16).to(device)
    y, (k, v) = run(sub, m, x, kv_cache=past)
    with torch.no_grad():
        raw_k = (x @ m.qkv.weight.T + m.qkv.bias)[..., 16:32].reshape(1, 2, 4, 4).transpose(1, 2)
        want = trusted_rope(raw_k, torch.arange(4, 6, device=device))
    rotated = bool(torch.allclose(k[:, :, 4:], want, atol=1e-5))
    expect_close(
        k[:, :, 4:], want,
        ("the new keys in the returned cache must be rotated at their absolute positions S_past + arange(L) "
        "(here 4 and 5) before they are cached: later queries compare against them as they are"),
        atol=1e-5
    )
    observe("new cached keys rotated at positions 4, 5", rotated)
    observe("y", y)


def test_bias_false(sub, observe, device):
    """works without biases"""
    m = build(sub, device, D=16, H=4, seed=6, bias=False, rope=True)
    assert m.qkv.bias is None and m.proj.bias is None, "with bias=False, qkv and proj have no bias"
    x = inputs(61, 2, 5, 16).to(device)
    y, (k, v) = run(sub, m, x, is_causal=True)
    check_shapes(x, y, (k, v), 5)
    observe("y", y)
    observe("k", k)


def test_mask_with_cache(sub, observe, device):
    """passes a (L, S) mask through when decoding with a cache"""
    m = build(sub, device, D=16, H=4, seed=7)
    past = (inputs(71, 2, 4, 3, 4).to(device), inputs(72, 2, 4, 3, 4).to(device))
    x = inputs(73, 2, 2, 16).to(device)
    y, _ = run(sub, m, x, kv_cache=past, mask=make_mask("bool", 2, 5, 74).to(device), is_causal=True)
    observe("y", y)


def test_gradient(sub, observe, device):
    """is differentiable in x and the weights"""
    m = build(sub, device, D=16, H=4, seed=8, rope=True)
    x = inputs(81, 2, 5, 16).to(device).requires_grad_(True)
    y, _ = run(sub, m, x, is_causal=True)
    (y * inputs(82, 2, 5, 16).to(device)).sum().backward()
    observe("x.grad", x.grad)
    observe("qkv.weight.grad", m.qkv.weight.grad)
    observe("proj.weight.grad", m.proj.weight.grad)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that attention wrong on every input of one kind (with rope and another base, with a cache, with a
# mask) keeps at most a third; the tests above say which kind.
@pytest.mark.question("mha", weight=42)
def test_whole_contract(sub, observe, device):
    """argument checks, masks, rope with its base, the head split, the cache with rotated keys, chunked decoding"""
    test_rejects_bad_arguments(sub, observe, device)
    test_values(sub, observe, device, CONFIGS["bool_mask"])
    test_values(sub, observe, device, CONFIGS["rope_base_100"])
    test_head_split(sub, observe, device)
    test_cache_shapes(sub, observe, device)
    test_chunked_equals_full(sub, observe, device, True)
    test_rope_positions_offset(sub, observe, device)
    test_bias_false(sub, observe, device)
    test_mask_with_cache(sub, observe, device)
    test_gradient(sub, observe, device)

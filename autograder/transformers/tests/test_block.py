"""Hidden tests of `TransformerBlock(d_model, n_heads, mlp_ratio=4, rope=True)`: a pre-norm block.

Parameters ln1, attn (MultiHeadAttention with rope), ln2, mlp = Sequential(Linear(D, rD),
GELU(), Linear(rD, D)). forward(x, kv_cache=None) -> (x, cache):
    a, cache = attn(ln1(x), is_causal=True, kv_cache=kv_cache); x = x + a; x = x + mlp(ln2(x)).

While these tests run, the name `MultiHeadAttention` your block uses is pointed at a trusted
stand-in class with the same parameter names (and the names it would call, at trusted
attention, RoPE and softmax), so that a mistake in those questions costs points only there.
Weights are loaded through the documented parameter names.
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import expect_close, substitute

pytestmark = pytest.mark.question("block")


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


class TrustedMHA(nn.Module):
    """Multi-head attention with the documented parameters qkv = [q | k | v] and proj."""

    def __init__(self, d_model, n_heads, rope=False, rope_base=10000.0, bias=True):
        super().__init__()
        self.n_heads, self.rope, self.rope_base = n_heads, rope, rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, is_causal=False, kv_cache=None):
        B, L, D = x.shape
        q, k, v = self.qkv(x).reshape(B, L, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)
        past = 0 if kv_cache is None else kv_cache[0].shape[2]
        if self.rope:
            positions = torch.arange(past, past + L, device=x.device)
            q, k = trusted_rope(q, positions, self.rope_base), trusted_rope(k, positions, self.rope_base)
        if kv_cache is not None:
            k, v = torch.cat([kv_cache[0], k], dim=2), torch.cat([kv_cache[1], v], dim=2)
        y = trusted_attention(q, k, v, mask=mask, is_causal=is_causal)
        return self.proj(y.transpose(1, 2).reshape(B, L, D)), (k, v)


def standins(sub):
    return substitute(sub, MultiHeadAttention=TrustedMHA, softmax=trusted_softmax,
                      scaled_dot_product_attention=trusted_attention, apply_rope=trusted_rope)


# --------------------------------------------------------------------------- fixed weights


def linear_weights(gen, prefix, n_in, n_out, bias=True, scale=1.0):
    w = {f"{prefix}weight": scale * torch.randn(n_out, n_in, generator=gen) / math.sqrt(n_in)}
    if bias:
        w[f"{prefix}bias"] = 0.2 * torch.randn(n_out, generator=gen)
    return w


def layernorm_weights(gen, prefix, d):
    return {f"{prefix}weight": 1 + 0.3 * torch.randn(d, generator=gen),
            f"{prefix}bias": 0.3 * torch.randn(d, generator=gen)}


def block_weights(gen, D, ratio=4, prefix=""):
    return {**layernorm_weights(gen, f"{prefix}ln1.", D),
            **linear_weights(gen, f"{prefix}attn.qkv.", D, 3 * D, scale=1.5),
            **linear_weights(gen, f"{prefix}attn.proj.", D, D),
            **layernorm_weights(gen, f"{prefix}ln2.", D),
            **linear_weights(gen, f"{prefix}mlp.0.", D, ratio * D),
            **linear_weights(gen, f"{prefix}mlp.2.", ratio * D, D)}


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


def build(sub, device, D=16, H=4, ratio=4, seed=0, **kwargs):
    gen = torch.Generator().manual_seed(500 + seed)
    with standins(sub):
        if ratio == 4:
            block = sub.TransformerBlock(D, H, **kwargs)  # the default mlp_ratio
        else:
            block = sub.TransformerBlock(D, H, mlp_ratio=ratio, **kwargs)
    assert isinstance(block.attn, TrustedMHA), (
        "the block's attention must be built by calling MultiHeadAttention(d_model, n_heads, rope=rope) "
        "(the tests replace that name with a trusted class)"
    )
    load_weights(block, block_weights(gen, D, ratio), "TransformerBlock")
    return block.to(device)


def run(sub, block, x, **kwargs):
    with standins(sub):
        out = block(x, **kwargs)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (x, cache)"
    y, cache = out
    assert tuple(y.shape) == tuple(x.shape), f"the block must keep x's shape {tuple(x.shape)}, got {tuple(y.shape)}"
    return y, cache


def inputs(seed, *shape, scale=1.0, shift=0.0):
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) + shift


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("ratio", [4, 2])
def test_values(sub, observe, device, ratio):
    """matches the reference with fixed weights"""
    block = build(sub, device, D=16, H=4, ratio=ratio, seed=1)
    x = inputs(11, 2, 6, 16).to(device)
    y, (k, v) = run(sub, block, x)
    observe("block(x)", y)
    observe("cached k", k)
    observe("cached v", v)


def test_pre_norm_on_a_large_residual(sub, observe, device):
    """normalises the inputs of attention and MLP only (pre-norm): the residual stream keeps its scale"""
    block = build(sub, device, D=16, H=4, seed=2)
    x = inputs(21, 2, 5, 16, scale=20.0, shift=7.0).to(device)
    y, _ = run(sub, block, x)
    # pre-norm: each branch sees a normalised input, so its output has a bounded size whatever x's scale
    delta = (y - x).abs().max()
    assert delta < 20, (
        f"block(x) - x reached {float(delta):.1f} for an input of scale 20: in a PRE-norm block the residual "
        "stream is never normalised, x = x + attn(ln1(x)); x = x + mlp(ln2(x)) (not ln(x + attn(x)))"
    )
    observe("block(x)", y)


def test_causal(sub, observe, device):
    """outputs at positions <= t do not change when tokens after t change"""
    block = build(sub, device, D=16, H=4, seed=3)
    x = inputs(31, 2, 8, 16).to(device)
    x2 = x.clone()
    x2[:, 5:] = inputs(32, 2, 3, 16).to(device)
    y, _ = run(sub, block, x)
    y2, _ = run(sub, block, x2)
    unchanged = bool(torch.allclose(y[:, :5], y2[:, :5], rtol=1e-5, atol=1e-6))
    expect_close(
        y[:, :5], y2[:, :5],
        ("changing the inputs at positions 5..7 changed the outputs at positions 0..4: the block's attention "
        "must be causal (attn(ln1(x), is_causal=True, ...))"),
        rtol=1e-5, atol=1e-6
    )
    observe("earlier outputs unchanged", unchanged)
    observe("changed later outputs differ", not bool(torch.allclose(y[:, 5:], y2[:, 5:])))


def test_chunked_equals_full(sub, observe, device):
    """forward in chunks of 4, 1 and 3 with the cache equals one full forward"""
    block = build(sub, device, D=16, H=4, seed=4)
    x = inputs(41, 2, 8, 16).to(device)
    full, (kf, _) = run(sub, block, x)
    cache, ys = None, []
    for a, b in [(0, 4), (4, 5), (5, 8)]:
        y, cache = run(sub, block, x[:, a:b], kv_cache=cache)
        ys.append(y)
    chunked = torch.cat(ys, dim=1)
    same = bool(torch.allclose(chunked, full, rtol=1e-4, atol=1e-5))
    expect_close(
        chunked, full,
        ("running the block on chunks with the cache must give the same outputs as one full forward: pass "
        "kv_cache to the attention and return the cache it gives back"),
        rtol=1e-4, atol=1e-5
    )
    observe("chunked equals full", same)
    observe("chunked output", chunked)
    assert cache[0].shape[2] == 8, f"after 8 tokens the cache must hold 8 keys, got {tuple(cache[0].shape)}"
    observe("final cached k", cache[0])


def test_gradient(sub, observe, device):
    """is differentiable in x and every parameter"""
    block = build(sub, device, D=16, H=4, seed=5)
    x = inputs(51, 2, 5, 16).to(device).requires_grad_(True)
    y, _ = run(sub, block, x)
    (y * inputs(52, 2, 5, 16).to(device)).sum().backward()
    observe("x.grad", x.grad)
    for name in ["ln1.weight", "attn.qkv.weight", "ln2.weight", "mlp.0.weight", "mlp.2.bias"]:
        observe(f"{name}.grad", block.get_parameter(name).grad)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that a block wrong on every input of one kind (with a cache) keeps at most a third; the tests above
# say which kind.
@pytest.mark.question("block", weight=16)
def test_whole_contract(sub, observe, device):
    """values, pre-norm, causal, chunked decoding with the cache, gradients"""
    test_values(sub, observe, device, 2)
    test_pre_norm_on_a_large_residual(sub, observe, device)
    test_causal(sub, observe, device)
    test_chunked_equals_full(sub, observe, device)
    test_gradient(sub, observe, device)

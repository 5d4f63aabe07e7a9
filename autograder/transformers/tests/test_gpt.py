"""Hidden tests of `TinyGPT(vocab_size, d_model=64, n_heads=4, n_layers=2)`.

Parameters tok_emb (Embedding), blocks (ModuleList of TransformerBlock with rope), ln_f,
head = Linear(D, V, bias=False). forward(idx, kv_cache=None) -> (logits (B, L, V), list of
each block's (k, v)); block i gets kv_cache[i], and positions continue from the cache length
(through the attention's RoPE).

While these tests run, the name `TransformerBlock` your model uses is pointed at a trusted
stand-in class with the same parameter names (and `MultiHeadAttention`, attention, RoPE and
softmax at trusted ones), so that a mistake in those questions costs points only there.
Weights are loaded through the documented parameter names (a state_dict built from a
seeded generator).
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import expect_close, substitute

pytestmark = pytest.mark.question("gpt")


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


class TrustedBlock(nn.Module):
    """The pre-norm block with the documented parameters ln1, attn, ln2, mlp."""

    def __init__(self, d_model, n_heads, mlp_ratio=4, rope=True):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = TrustedMHA(d_model, n_heads, rope=rope)
        self.ln2 = nn.LayerNorm(d_model)
        hidden = mlp_ratio * d_model
        self.mlp = nn.Sequential(nn.Linear(d_model, hidden), nn.GELU(), nn.Linear(hidden, d_model))

    def forward(self, x, kv_cache=None):
        a, cache = self.attn(self.ln1(x), is_causal=True, kv_cache=kv_cache)
        x = x + a
        return x + self.mlp(self.ln2(x)), cache


def standins(sub):
    return substitute(sub, TransformerBlock=TrustedBlock, MultiHeadAttention=TrustedMHA, softmax=trusted_softmax,
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


def gpt_weights(gen, V, D, n_layers, ratio=4):
    w = {"tok_emb.weight": torch.randn(V, D, generator=gen)}
    for i in range(n_layers):
        w.update(block_weights(gen, D, ratio, prefix=f"blocks.{i}."))
    w.update(layernorm_weights(gen, "ln_f.", D))
    w["head.weight"] = torch.randn(V, D, generator=gen) / math.sqrt(D)
    return w


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


V = 11


def build(sub, device, D=16, H=4, n_layers=2, seed=0):
    gen = torch.Generator().manual_seed(600 + seed)
    with standins(sub):
        model = sub.TinyGPT(V, d_model=D, n_heads=H, n_layers=n_layers)
    assert len(model.blocks) == n_layers and all(isinstance(b, TrustedBlock) for b in model.blocks), (
        "model.blocks must be an nn.ModuleList of n_layers blocks built by calling "
        "TransformerBlock(d_model, n_heads, ...) (the tests replace that name with a trusted class)"
    )
    load_weights(model, gpt_weights(gen, V, D, n_layers), "TinyGPT")
    return model.to(device)


def run(sub, model, idx, **kwargs):
    with standins(sub):
        out = model(idx, **kwargs)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (logits, caches)"
    logits, caches = out
    B, L = idx.shape
    assert tuple(logits.shape) == (B, L, V), (
        f"logits must have shape (B, L, V) = {(B, L, V)}, got {tuple(logits.shape)}"
    )
    assert isinstance(caches, (list, tuple)) and len(caches) == len(model.blocks), (
        f"forward must return a list with one (k, v) per block ({len(model.blocks)}), "
        f"got {type(caches).__name__} of length {len(caches) if isinstance(caches, (list, tuple)) else '?'}"
    )
    return logits, caches


def tokens(seed, B, L):
    return torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_values(sub, observe, device, n_layers):
    """matches the reference with fixed weights"""
    model = build(sub, device, n_layers=n_layers, seed=n_layers)
    idx = tokens(61, 2, 7).to(device)
    logits, caches = run(sub, model, idx)
    observe("logits", logits)
    for i, (k, v) in enumerate(caches):
        observe(f"block {i} cached k", k)
        observe(f"block {i} cached v", v)


def test_cache_structure(sub, observe, device):
    """returns one (k, v) per block, each (B, n_heads, L, head_dim)"""
    model = build(sub, device, D=16, H=4, n_layers=3, seed=4)
    idx = tokens(62, 2, 5).to(device)
    _, caches = run(sub, model, idx)
    shapes = []
    for i, c in enumerate(caches):
        assert isinstance(c, tuple) and len(c) == 2, f"caches[{i}] must be the (k, v) tuple block {i} returned"
        assert tuple(c[0].shape) == (2, 4, 5, 4), (
            f"caches[{i}][0] must have shape (B, n_heads, L, head_dim) = (2, 4, 5, 4)"
        )
        shapes.append([list(c[0].shape), list(c[1].shape)])
    distinct = not torch.allclose(caches[0][0], caches[1][0])
    assert distinct, "every block must get and return its own cache (block i's keys differ from block j's)"
    observe("cache shapes", shapes)


def test_incremental_equals_full(sub, observe, device):
    """decoding one token at a time with the cache gives the full forward's logits"""
    model = build(sub, device, seed=5)
    idx = tokens(63, 2, 6).to(device)
    full, _ = run(sub, model, idx)
    caches, steps = None, []
    for t in range(6):
        logits, caches = run(sub, model, idx[:, t : t + 1], kv_cache=caches)
        steps.append(logits)
    incremental = torch.cat(steps, dim=1)
    same = bool(torch.allclose(incremental, full, rtol=1e-4, atol=1e-5))
    expect_close(
        incremental, full,
        ("feeding the tokens one at a time with the cache must give the same logits as the full forward: "
        "pass kv_cache[i] to block i and return the list of the caches the blocks give back"),
        rtol=1e-4, atol=1e-5
    )
    observe("incremental equals full", same)
    observe("incremental logits", incremental)


def test_positions_continue(sub, observe, device):
    """a prompt of 5 then 3 more tokens with the cache gives the full forward's logits"""
    model = build(sub, device, seed=6)
    idx = tokens(64, 2, 8).to(device)
    full, _ = run(sub, model, idx)
    _, caches = run(sub, model, idx[:, :5])
    logits, caches = run(sub, model, idx[:, 5:], kv_cache=caches)
    same = bool(torch.allclose(logits, full[:, 5:], rtol=1e-4, atol=1e-5))
    expect_close(
        logits, full[:, 5:],
        ("after a cached prompt of 5 tokens, the next 3 tokens must get the logits of positions 5..7 of the full "
        "forward: give each block its own cache, the positions follow from the cache length"),
        rtol=1e-4, atol=1e-5
    )
    observe("continuation equals full", same)
    observe("logits of the continuation", logits)
    observe("cache lengths", [c[0].shape[2] for c in caches])


def test_gradient(sub, observe, device):
    """is differentiable in every parameter"""
    model = build(sub, device, seed=7)
    idx = tokens(65, 2, 5).to(device)
    logits, _ = run(sub, model, idx)
    upstream = torch.randn(logits.shape, generator=torch.Generator().manual_seed(66)).to(device)
    (logits * upstream).sum().backward()
    for name in ["tok_emb.weight", "blocks.0.ln1.weight", "blocks.1.mlp.2.weight", "ln_f.weight", "head.weight"]:
        observe(f"{name}.grad", model.get_parameter(name).grad)


def test_rejects_wrong_cache_length(sub, observe, device):
    """raises ValueError for a cache list whose length is not the number of blocks"""
    model = build(sub, device, n_layers=3, seed=8)
    idx = tokens(67, 1, 4).to(device)
    _, caches = run(sub, model, idx)
    with standins(sub):
        with pytest.raises(ValueError):
            model(idx[:, -1:], kv_cache=caches[:2])
    observe("2 caches for 3 blocks raises ValueError", True)
    logits, _ = run(sub, model, idx[:, -1:], kv_cache=caches)
    observe("logits with the right cache", logits)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that a model wrong on every input of one kind (with a cache) keeps at most a third; the tests above
# say which kind.
@pytest.mark.question("gpt", weight=20)
def test_whole_contract(sub, observe, device):
    """values, one cache per block, incremental and continued decoding with the cache, gradients, cache checks"""
    test_values(sub, observe, device, 2)
    test_cache_structure(sub, observe, device)
    test_incremental_equals_full(sub, observe, device)
    test_positions_continue(sub, observe, device)
    test_gradient(sub, observe, device)
    test_rejects_wrong_cache_length(sub, observe, device)

"""Public tests of the transformers assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's
values (shipped in snapshots.json). The hidden tests check the same things more thoroughly:
more shapes and masks, RoPE inside attention and the cache, gradients, dtypes, sampling.

Questions build on each other, but each is graded on its own: while a question's tests run,
the names it calls from earlier questions are pointed at stand-ins (`substitute`), so a
mistake in, say, your softmax costs points only on softmax. Call earlier questions BY NAME
(softmax inside your attention, scaled_dot_product_attention and apply_rope inside
MultiHeadAttention, MultiHeadAttention in TransformerBlock, TransformerBlock in TinyGPT,
softmax in generate, lm_loss in train_step). The stand-ins here are torch built-ins or
deliberately simple toy modules with the same call signature and cache layout.
"""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.testing import expect_close, expect_equal, seeded, substitute

F64 = torch.float64


def randn(seed, *shape, dtype=torch.float32, scale=1.0):
    return (scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seeded(seed)), dtype=F64)).to(dtype)


# --------------------------------------------------------------------------- stand-ins (torch built-ins and toys)


def torch_softmax(x, dim=-1):
    """torch's softmax, standing in for yours."""
    return torch.softmax(x, dim=dim)


def torch_attention(q, k, v, mask=None, is_causal=False):
    """torch's F.scaled_dot_product_attention, with is_causal turned into the lower-right mask."""
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        causal = torch.ones(L, S, dtype=torch.bool, device=q.device).tril(diagonal=S - L)
        if mask is None:
            mask = causal
        elif mask.dtype == torch.bool:
            mask = mask & causal
        else:
            mask = mask.masked_fill(~causal, float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class UniformAttention(nn.Module):
    """A toy stand-in for MultiHeadAttention: each query averages the inputs it may see, uniformly.

    Same signature, same (k, v) cache layout (B, n_heads, S, head_dim), one parameter `proj`.
    """

    def __init__(self, d_model, n_heads, rope=False, rope_base=10000.0, bias=True):
        super().__init__()
        self.n_heads = n_heads
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, is_causal=False, kv_cache=None):
        B, L, D = x.shape
        v = x.reshape(B, L, self.n_heads, D // self.n_heads).transpose(1, 2)
        if kv_cache is not None:
            v = torch.cat([kv_cache[1], v], dim=2)
        S = v.shape[2]
        w = torch.ones(L, S, dtype=x.dtype, device=x.device)
        if is_causal:
            w = w.tril(diagonal=S - L)
        y = (w / w.sum(dim=-1, keepdim=True)) @ v
        return self.proj(y.transpose(1, 2).reshape(B, L, D)), (v, v)


class ToyBlock(nn.Module):
    """A toy stand-in for TransformerBlock: adds tanh(mix(mean of the inputs so far)); one parameter `mix`."""

    def __init__(self, d_model, n_heads, mlp_ratio=4, rope=True):
        super().__init__()
        self.n_heads = n_heads
        self.mix = nn.Linear(d_model, d_model)

    def forward(self, x, kv_cache=None):
        B, L, D = x.shape
        h = x.reshape(B, L, self.n_heads, D // self.n_heads).transpose(1, 2)
        if kv_cache is not None:
            h = torch.cat([kv_cache[0], h], dim=2)
        S = h.shape[2]
        w = torch.ones(L, S, dtype=x.dtype, device=x.device).tril(diagonal=S - L)
        mean = ((w / w.sum(dim=-1, keepdim=True)) @ h).transpose(1, 2).reshape(B, L, D)
        return x + torch.tanh(self.mix(mean)), (h, h)


class ToyLM(nn.Module):
    """A causal toy language model for generate: logits at position t depend on the tokens at t and t - 1
    and on t. Its cache is a list with one (k, v) pair of shape (B, 1, S, 1) (the tokens seen so far)."""

    def __init__(self, vocab_size=11, seed=0, max_len=64):
        super().__init__()
        gen = torch.Generator().manual_seed(seeded(seed))
        self.vocab_size = vocab_size
        self.register_buffer("cur", 3 * torch.randn(vocab_size, vocab_size, generator=gen))
        self.register_buffer("prev", 3 * torch.randn(vocab_size + 1, vocab_size, generator=gen))
        self.register_buffer("pos", 3 * torch.randn(max_len, vocab_size, generator=gen))

    def forward(self, idx, kv_cache=None):
        B, L = idx.shape
        seen = idx.new_zeros(B, 0) if kv_cache is None else kv_cache[0][0][:, 0, :, 0].long()
        tokens = torch.cat([seen, idx], dim=1)
        S = tokens.shape[1]
        before = torch.cat([torch.full_like(tokens[:, :1], self.vocab_size), tokens[:, :-1]], dim=1)[:, S - L :]
        k = tokens[:, None, :, None].float()
        return self.cur[idx] + self.prev[before] + self.pos[S - L : S], [(k, k.clone())]


class BigramLM(nn.Module):
    """A tiny trainable language model for train_step: embedding, tanh, linear."""

    def __init__(self, vocab_size=7, d=5, seed=0, scale=1.0):
        super().__init__()
        gen = torch.Generator().manual_seed(seeded(seed))
        self.emb = nn.Embedding(vocab_size, d)
        self.out = nn.Linear(d, vocab_size)
        with torch.no_grad():
            self.emb.weight.copy_(torch.randn(vocab_size, d, generator=gen))
            self.out.weight.copy_(scale * torch.randn(vocab_size, d, generator=gen))
            self.out.bias.copy_(torch.randn(vocab_size, generator=gen))

    def forward(self, idx, kv_cache=None):
        return self.out(torch.tanh(self.emb(idx))), []


def torch_lm_loss(logits, tokens, ignore_index=-100):
    """torch's cross-entropy of logits[:, t] against tokens[:, t + 1], standing in for your lm_loss."""
    V = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), ignore_index=ignore_index)


def load_weights(module, weights, what):
    """Copy fixed tensors into the module's parameters, found by their documented names."""
    params = dict(module.named_parameters())
    missing = [n for n in weights if n not in params]
    assert not missing, f"{what} has no parameter(s) {missing}; yours has {sorted(params)}"
    with torch.no_grad():
        for n, w in weights.items():
            assert tuple(params[n].shape) == tuple(w.shape), (
                f"{what}.{n} has shape {tuple(params[n].shape)}, expected {tuple(w.shape)}"
            )
            params[n].copy_(w)


def linear_weights(gen, prefix, n_in, n_out):
    return {f"{prefix}weight": torch.randn(n_out, n_in, generator=gen) / math.sqrt(n_in),
            f"{prefix}bias": 0.2 * torch.randn(n_out, generator=gen)}


def layernorm_weights(gen, prefix, d):
    return {f"{prefix}weight": 1 + 0.3 * torch.randn(d, generator=gen),
            f"{prefix}bias": 0.3 * torch.randn(d, generator=gen)}


# --------------------------------------------------------------------------- softmax


@pytest.mark.question("softmax")
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_softmax_values(sub, observe, device, dim):
    """matches the reference along the given dim and sums to 1 there"""
    x = randn(0, 2, 3, 4, dtype=F64, scale=2.0).to(device)
    out = sub.softmax(x, dim=dim)
    assert out.shape == x.shape, f"softmax must keep x's shape {tuple(x.shape)}, got {tuple(out.shape)}"
    sums = out.sum(dim=dim)
    expect_close(sums, torch.ones_like(sums), f"softmax(x, dim={dim}) must sum to 1 along dim {dim}")
    observe(f"softmax(x, dim={dim})", out)


@pytest.mark.question("softmax")
@pytest.mark.parametrize("transform", ["x", "x+100", "x*1000"])
def test_softmax_stability(sub, observe, device, transform):
    """is finite for large inputs (x + 100, x * 1000) in float32"""
    x = randn(1, 3, 5)
    x = {"x": x, "x+100": x + 100, "x*1000": x * 1000}[transform].to(device)
    out = sub.softmax(x, dim=-1)
    assert torch.isfinite(out).all(), (
        f"softmax({transform}) produced NaN or inf: subtract the max along dim before exponentiating"
    )
    observe(f"softmax({transform})", out)


@pytest.mark.question("softmax")
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_softmax_dtype(sub, observe, device, dtype):
    """keeps the input's dtype"""
    x = randn(2, 4, 3, dtype=dtype).to(device)
    out = sub.softmax(x, dim=-1)
    assert out.dtype == dtype, f"softmax must keep the dtype {dtype}, got {out.dtype}"
    observe("softmax(x)", out)


# --------------------------------------------------------------------------- attention


def attend(sub, *args, **kwargs):
    with substitute(sub, softmax=torch_softmax):
        return sub.scaled_dot_product_attention(*args, **kwargs)


@pytest.mark.question("attention")
@pytest.mark.parametrize("L,S", [(4, 4), (3, 6)], ids=["L4_S4", "L3_S6"])
def test_attention_values(sub, observe, device, L, S):
    """matches the reference with batch and head dims (E = 8, so the 1/sqrt(E) scale matters)"""
    q, k, v = randn(10, 2, 3, L, 8, dtype=F64), randn(11, 2, 3, S, 8, dtype=F64), randn(12, 2, 3, S, 8, dtype=F64)
    out = attend(sub, q.to(device), k.to(device), v.to(device))
    assert tuple(out.shape) == (2, 3, L, 8), f"the output must have shape (..., L, Ev) = (2, 3, {L}, 8)"
    observe("attention(q, k, v)", out)


@pytest.mark.question("attention")
def test_attention_value_dim(sub, observe, device):
    """returns (..., L, Ev) when v's last dim differs from q's"""
    q, k, v = randn(13, 2, 4, 8, dtype=F64), randn(14, 2, 5, 8, dtype=F64), randn(15, 2, 5, 3, dtype=F64)
    out = attend(sub, q.to(device), k.to(device), v.to(device))
    assert tuple(out.shape) == (2, 4, 3), f"the output must have shape (..., L, Ev) = (2, 4, 3), got {tuple(out.shape)}"
    observe("attention with Ev = 3", out)


@pytest.mark.question("attention")
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_attention_mask(sub, observe, device, kind):
    """applies a boolean mask (True = may attend) or adds a float mask"""
    q, k, v = randn(16, 2, 4, 8, dtype=F64), randn(17, 2, 5, 8, dtype=F64), randn(18, 2, 5, 8, dtype=F64)
    if kind == "bool":
        mask = randn(19, 4, 5) > 0
        mask[:, 0] = True  # every query keeps a key
    else:
        mask = randn(19, 4, 5, dtype=F64, scale=2.0)
    out = attend(sub, q.to(device), k.to(device), v.to(device), mask=mask.to(device))
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).to(device)
    expect_close(
        out, want,
        "a boolean mask keeps the scores where it is True (the others become -inf); a float mask is added to them",
        rtol=1e-6, atol=1e-9
    )
    observe(f"attention with a {kind} mask", out)


@pytest.mark.question("attention")
def test_attention_causal_square(sub, observe, device):
    """is_causal with L == S lets query i see keys 0..i (torch's is_causal)"""
    q, k, v = randn(20, 2, 5, 8, dtype=F64), randn(21, 2, 5, 8, dtype=F64), randn(22, 2, 5, 8, dtype=F64)
    out = attend(sub, q.to(device), k.to(device), v.to(device), is_causal=True)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True).to(device)
    expect_close(out, want, "with L == S causal attention lets query i attend keys 0..i", rtol=1e-6, atol=1e-9)
    observe("causal attention, L == S", out)


@pytest.mark.question("attention")
def test_attention_one_query_sees_all_keys(sub, observe, device):
    """is_causal is lower-right aligned: one query with six keys attends all six"""
    q, k, v = randn(23, 2, 1, 8, dtype=F64), randn(24, 2, 6, 8, dtype=F64), randn(25, 2, 6, 8, dtype=F64)
    q, k, v = q.to(device), k.to(device), v.to(device)
    out = attend(sub, q, k, v, is_causal=True)
    full = attend(sub, q, k, v)
    same = bool(torch.allclose(out, full))
    expect_close(
        out, full,
        ("a single query with six cached keys is the newest token: it may attend all six (query i sees keys "
        "j <= i + S - L). torch's is_causal is top-left aligned and would let it see key 0 only"),
    )
    observe("one causal query equals non-causal", same)
    observe("output", out)


# --------------------------------------------------------------------------- rope


@pytest.mark.question("rope")
def test_rope_values(sub, observe, device):
    """matches the reference at positions 0..L-1"""
    x = randn(30, 2, 6, 8).to(device)
    out = sub.apply_rope(x, torch.arange(6).to(device))
    assert out.shape == x.shape and out.dtype == x.dtype, "apply_rope must keep x's shape and dtype"
    observe("apply_rope(x, arange(6))", out, rtol=1e-4, atol=2e-4)


@pytest.mark.question("rope")
def test_rope_position_zero(sub, observe, device):
    """is the identity at position 0"""
    x = randn(31, 3, 8).to(device)
    out = sub.apply_rope(x, torch.zeros(3, dtype=torch.long).to(device))
    same = bool(torch.allclose(out, x, atol=1e-6))
    expect_close(out, x, "at position 0 every rotation angle is 0, so apply_rope must return x unchanged", atol=1e-6)
    observe("position 0 is the identity", same)


@pytest.mark.question("rope")
def test_rope_preserves_norms(sub, observe, device):
    """preserves the norm of every pair (x[2i], x[2i+1])"""
    x = randn(32, 5, 8, dtype=F64).to(device)
    out = sub.apply_rope(x, torch.arange(5).to(device))
    norms = out.reshape(5, 4, 2).norm(dim=-1)
    expect_close(
        norms, x.reshape(5, 4, 2).norm(dim=-1),
        "rotating the pair (x[2i], x[2i+1]) preserves its length",
        rtol=1e-5
    )
    observe("pair norms", norms, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- mha


def build_mha(sub, device, D=16, H=4, seed=40):
    gen = torch.Generator().manual_seed(seeded(seed))
    with substitute(sub, scaled_dot_product_attention=torch_attention, softmax=torch_softmax):
        m = sub.MultiHeadAttention(D, H)
    load_weights(m, {**linear_weights(gen, "qkv.", D, 3 * D), **linear_weights(gen, "proj.", D, D)},
                 "MultiHeadAttention")
    return m.to(device)


def run_mha(sub, m, x, **kwargs):
    with substitute(sub, scaled_dot_product_attention=torch_attention, softmax=torch_softmax):
        out = m(x, **kwargs)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (y, (k, v))"
    return out


@pytest.mark.question("mha")
@pytest.mark.parametrize("is_causal", [False, True], ids=["full", "causal"])
def test_mha_values(sub, observe, device, is_causal):
    """matches the reference with fixed weights (no rope)"""
    m = build_mha(sub, device)
    x = randn(41, 2, 5, 16).to(device)
    y, (k, v) = run_mha(sub, m, x, is_causal=is_causal)
    assert tuple(y.shape) == (2, 5, 16), f"y must have shape (B, L, D) = (2, 5, 16), got {tuple(y.shape)}"
    assert tuple(k.shape) == (2, 4, 5, 4), (
        f"k must have shape (B, n_heads, L, head_dim) = (2, 4, 5, 4), got {tuple(k.shape)}"
    )
    observe("y", y)
    observe("k", k)
    observe("v", v)


@pytest.mark.question("mha")
def test_mha_chunked_equals_full(sub, observe, device):
    """causal forward in chunks of 3 and 2 with the cache equals one full forward"""
    m = build_mha(sub, device, seed=42)
    x = randn(43, 2, 5, 16).to(device)
    full, _ = run_mha(sub, m, x, is_causal=True)
    y1, cache = run_mha(sub, m, x[:, :3], is_causal=True)
    y2, cache = run_mha(sub, m, x[:, 3:], is_causal=True, kv_cache=cache)
    assert tuple(cache[0].shape) == (2, 4, 5, 4), (
        f"after 3 + 2 tokens the cached keys must have shape (B, n_heads, 5, head_dim), got {tuple(cache[0].shape)}"
    )
    chunked = torch.cat([y1, y2], dim=1)
    same = bool(torch.allclose(chunked, full, rtol=1e-4, atol=1e-5))
    expect_close(
        chunked, full,
        "decoding in chunks with the KV cache must give the full forward's outputs (append k, v along dim 2)",
        rtol=1e-4, atol=1e-5
    )
    observe("chunked equals full", same)
    observe("cache shapes", [list(cache[0].shape), list(cache[1].shape)])


# --------------------------------------------------------------------------- block


def build_block(sub, device, D=16, H=4, seed=50):
    gen = torch.Generator().manual_seed(seeded(seed))
    with substitute(sub, MultiHeadAttention=UniformAttention):
        block = sub.TransformerBlock(D, H)
    assert isinstance(block.attn, UniformAttention), (
        "build the block's attention by calling MultiHeadAttention(d_model, n_heads, rope=rope)"
    )
    weights = {**layernorm_weights(gen, "ln1.", D), **linear_weights(gen, "attn.proj.", D, D),
               **layernorm_weights(gen, "ln2.", D), **linear_weights(gen, "mlp.0.", D, 4 * D),
               **linear_weights(gen, "mlp.2.", 4 * D, D)}
    load_weights(block, weights, "TransformerBlock")
    return block.to(device)


def run_block(sub, block, x, **kwargs):
    with substitute(sub, MultiHeadAttention=UniformAttention):
        out = block(x, **kwargs)
    assert isinstance(out, tuple) and len(out) == 2, "forward must return (x, cache)"
    return out


@pytest.mark.question("block")
def test_block_values(sub, observe, device):
    """matches the reference with fixed weights (with a toy attention)"""
    block = build_block(sub, device)
    x = randn(51, 2, 5, 16, scale=3.0).to(device)
    y, _ = run_block(sub, block, x)
    assert y.shape == x.shape, f"the block must keep x's shape {tuple(x.shape)}, got {tuple(y.shape)}"
    observe("block(x)", y)


@pytest.mark.question("block")
def test_block_causal_and_cached(sub, observe, device):
    """is causal, and chunked forward with the cache equals the full forward"""
    block = build_block(sub, device, seed=52)
    x = randn(53, 2, 6, 16).to(device)
    x2 = x.clone()
    x2[:, 4:] = randn(54, 2, 2, 16).to(device)
    y, _ = run_block(sub, block, x)
    y2, _ = run_block(sub, block, x2)
    causal = bool(torch.allclose(y[:, :4], y2[:, :4]))
    expect_close(
        y[:, :4], y2[:, :4],
        "changing tokens 4..5 changed the outputs at 0..3: call the attention with is_causal=True",
    )
    ya, cache = run_block(sub, block, x[:, :4])
    yb, cache = run_block(sub, block, x[:, 4:], kv_cache=cache)
    cached = bool(torch.allclose(torch.cat([ya, yb], dim=1), y, rtol=1e-4, atol=1e-5))
    expect_close(
        torch.cat([ya, yb], dim=1), y,
        "the block must pass kv_cache to its attention and return the cache it gets back",
        rtol=1e-4, atol=1e-5
    )
    observe("causal", causal)
    observe("chunked equals full", cached)


# --------------------------------------------------------------------------- gpt

V_GPT = 11


def build_gpt(sub, device, D=16, H=4, n_layers=2, seed=60):
    gen = torch.Generator().manual_seed(seeded(seed))
    with substitute(sub, TransformerBlock=ToyBlock):
        model = sub.TinyGPT(V_GPT, d_model=D, n_heads=H, n_layers=n_layers)
    assert len(model.blocks) == n_layers and all(isinstance(b, ToyBlock) for b in model.blocks), (
        "model.blocks must be an nn.ModuleList of n_layers blocks built by calling TransformerBlock(...)"
    )
    weights = {"tok_emb.weight": torch.randn(V_GPT, D, generator=gen)}
    for i in range(n_layers):
        weights.update(linear_weights(gen, f"blocks.{i}.mix.", D, D))
    weights.update(layernorm_weights(gen, "ln_f.", D))
    weights["head.weight"] = torch.randn(V_GPT, D, generator=gen) / math.sqrt(D)
    load_weights(model, weights, "TinyGPT")
    return model.to(device)


def tokens(seed, B, L, V):
    return torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(seeded(seed)))


@pytest.mark.question("gpt")
def test_gpt_values(sub, observe, device):
    """returns (B, L, V) logits and one cache per block (with toy blocks)"""
    model = build_gpt(sub, device, n_layers=3)
    idx = tokens(61, 2, 6, V_GPT).to(device)
    logits, caches = model(idx)
    assert tuple(logits.shape) == (2, 6, V_GPT), f"logits must have shape (B, L, V) = (2, 6, {V_GPT})"
    assert isinstance(caches, (list, tuple)) and len(caches) == 3, (
        "forward must return a list with one (k, v) per block"
    )
    observe("logits", logits)
    observe("cache lengths", [c[0].shape[2] for c in caches])


@pytest.mark.question("gpt")
def test_gpt_incremental_equals_full(sub, observe, device):
    """a prompt of 4 then one token at a time with the cache gives the full forward's logits"""
    model = build_gpt(sub, device, seed=62)
    idx = tokens(63, 2, 7, V_GPT).to(device)
    full, _ = model(idx)
    steps, caches = [], None
    for a, b in [(0, 4), (4, 5), (5, 6), (6, 7)]:
        logits, caches = model(idx[:, a:b], kv_cache=caches)
        steps.append(logits)
    same = bool(torch.allclose(torch.cat(steps, dim=1), full, rtol=1e-4, atol=1e-5))
    expect_close(
        torch.cat(steps, dim=1), full,
        "with the cache, block i must get kv_cache[i]; return the list of the caches the blocks return",
        rtol=1e-4, atol=1e-5
    )
    observe("incremental equals full", same)


# --------------------------------------------------------------------------- loss


@pytest.mark.question("loss")
def test_loss_values(sub, observe, device):
    """matches the reference (logits[:, t] predicts tokens[:, t + 1])"""
    logits = randn(70, 2, 5, 7, dtype=F64, scale=2.0).to(device)
    toks = tokens(71, 2, 5, 7).to(device)
    loss = sub.lm_loss(logits, toks)
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "lm_loss must return a 0-dim tensor"
    observe("lm_loss", loss.to(F64))


@pytest.mark.question("loss")
def test_loss_ignore_index(sub, observe, device):
    """leaves out targets equal to ignore_index"""
    logits = randn(72, 2, 5, 7, dtype=F64, scale=2.0).to(device)
    toks = tokens(73, 2, 5, 7)
    toks[0, 2] = toks[1, 4] = -100
    observe("lm_loss with ignore_index=-100", sub.lm_loss(logits, toks.to(device)).to(F64))
    observe("lm_loss with ignore_index=3", sub.lm_loss(logits, tokens(73, 2, 5, 7).to(device), ignore_index=3).to(F64))


@pytest.mark.question("loss")
def test_loss_large_logits(sub, observe, device):
    """is finite for logits of size 1e4"""
    logits = randn(74, 2, 5, 7, scale=1e4).to(device)
    loss = sub.lm_loss(logits, tokens(75, 2, 5, 7).to(device))
    assert torch.isfinite(loss), "lm_loss overflowed: compute log-softmax as x - max - log(sum(exp(x - max)))"
    observe("lm_loss of huge logits", loss.to(torch.float32))


# --------------------------------------------------------------------------- generate


def generate(sub, *args, **kwargs):
    with substitute(sub, softmax=torch_softmax):
        return sub.generate(*args, **kwargs)


@pytest.mark.question("generate")
def test_generate_greedy(sub, observe, device):
    """greedy decoding: (B, L + n) tokens, the same with and without the cache"""
    model = ToyLM().to(device)
    idx = tokens(80, 2, 3, 11).to(device)
    cached = generate(sub, model, idx, 6, temperature=0)
    assert tuple(cached.shape) == (2, 9), (
        f"generate must return (B, L + max_new_tokens) = (2, 9), got {tuple(cached.shape)}"
    )
    expect_equal(cached[:, :3], idx, "the output must start with the prompt")
    uncached = generate(sub, model, idx, 6, temperature=0, use_cache=False)
    same = bool(torch.equal(cached, uncached))
    expect_equal(
        cached, uncached,
        "greedy tokens with the cache must equal those of full recomputation (feed only the newest token)",
    )
    observe("cached equals uncached", same)
    observe("greedy tokens", cached)


@pytest.mark.question("generate")
def test_generate_top_k_one_is_greedy(sub, observe, device):
    """top_k=1 always samples the argmax"""
    model = ToyLM(seed=1).to(device)
    idx = tokens(81, 3, 2, 11).to(device)
    greedy = generate(sub, model, idx, 5, temperature=0)
    gen = torch.Generator(device=device).manual_seed(seeded(0))  # on the device of the probabilities, for multinomial
    top1 = generate(sub, model, idx, 5, temperature=1.5, top_k=1, generator=gen)
    same = bool(torch.equal(greedy, top1))
    expect_equal(greedy, top1, "with top_k=1 only the largest logit survives (the rest become -inf)")
    observe("top_k=1 equals greedy", same)


@pytest.mark.question("generate")
@pytest.mark.parametrize("temperature,top_k", [(1.0, None), (0.7, 4)], ids=["t1", "t07_k4"])
def test_generate_sampling(sub, observe, device, temperature, top_k):
    """draws the reference's tokens from a seeded generator with torch.multinomial"""
    model = ToyLM(seed=2).to(device)
    idx = tokens(82, 4, 2, 11).to(device)
    out = generate(sub, model, idx, 6, temperature=temperature, top_k=top_k,
                   generator=torch.Generator(device=device).manual_seed(seeded(1)))
    observe("sampled tokens", out)


# --------------------------------------------------------------------------- train


def train_step(sub, *args, **kwargs):
    with substitute(sub, lm_loss=torch_lm_loss):
        loss = sub.train_step(*args, **kwargs)
    assert type(loss) is float, f"train_step must return loss.item(), a Python float; got {type(loss).__name__}"
    return loss


@pytest.mark.question("train")
@pytest.mark.parametrize("grad_clip", [None, 0.1], ids=["no_clip", "clip_0.1"])
def test_train_step(sub, observe, device, grad_clip):
    """one SGD step: the loss before the step and the parameters after it match the reference"""
    model = BigramLM(seed=3, scale=4.0).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    toks = tokens(90, 4, 6, 7).to(device)
    loss = train_step(sub, model, opt, toks, grad_clip=grad_clip)
    observe("returned loss", loss, rtol=1e-5)
    for n, p in model.named_parameters():
        observe(f"{n} after the step", p.detach().clone())

"""Hidden tests of `generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, use_cache=True, generator=None)`.

Under no_grad; with the cache, model(prompt) once and then one new token at a time with the
cache it returned; without, a full forward of the whole sequence at every step. Take
logits[:, -1, :]; temperature 0 picks the argmax; otherwise logits / temperature, top-k keeps
the values >= the k-th largest (the others become -inf), probs = softmax(...) and
next = torch.multinomial(probs, 1, generator=generator). Returns (B, L + max_new_tokens).

The models here are the tests' own: a trusted TinyGPT (same parameter names as yours, fixed
weights) and small causal toy models whose calls are recorded. The name `softmax` your
function calls is pointed at torch's softmax while these tests run, so that a mistake in
your softmax costs points only on that question. Sampling uses a seeded torch.Generator
and torch.multinomial, so a correct implementation draws exactly the reference's tokens.
"""

import math

import pytest
import torch
import torch.nn as nn

from autograder.testing import expect_equal, substitute

pytestmark = pytest.mark.question("generate")


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


class TrustedGPT(nn.Module):
    """TinyGPT with the documented parameters, built from the trusted block."""

    def __init__(self, vocab_size, d_model=16, n_heads=4, n_layers=2):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList([TrustedBlock(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx, kv_cache=None):
        x, caches = self.tok_emb(idx), []
        for i, block in enumerate(self.blocks):
            x, cache = block(x, kv_cache=None if kv_cache is None else kv_cache[i])
            caches.append(cache)
        return self.head(self.ln_f(x)), caches


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
    w["head.weight"] = 3 * torch.randn(V, D, generator=gen) / math.sqrt(D)
    return w


V = 13


def trusted_gpt(device, seed=0):
    model = TrustedGPT(V)
    model.load_state_dict(gpt_weights(torch.Generator().manual_seed(800 + seed), V, 16, 2))
    return model.to(device).eval()


class ToyLM(nn.Module):
    """A causal toy language model that records how it is called.

    The logits at position t depend on the token at t, the token before it and t itself.
    Its cache is a list with one (k, v) pair of shape (B, 1, S, 1): the tokens seen so far.
    """

    def __init__(self, vocab_size=V, seed=0, scale=3.0, max_len=64):
        super().__init__()
        gen = torch.Generator().manual_seed(900 + seed)
        self.vocab_size = vocab_size
        self.register_buffer("cur", scale * torch.randn(vocab_size, vocab_size, generator=gen))
        self.register_buffer("prev", scale * torch.randn(vocab_size + 1, vocab_size, generator=gen))
        self.register_buffer("pos", scale * torch.randn(max_len, vocab_size, generator=gen))
        self.calls = []

    def forward(self, idx, kv_cache=None):
        B, L = idx.shape
        self.calls.append({"length": L, "cached": kv_cache is not None, "grad": torch.is_grad_enabled()})
        seen = idx.new_zeros(B, 0) if kv_cache is None else kv_cache[0][0][:, 0, :, 0].long()
        tokens = torch.cat([seen, idx], dim=1)
        S = tokens.shape[1]
        before = torch.cat([torch.full_like(tokens[:, :1], self.vocab_size), tokens[:, :-1]], dim=1)[:, S - L :]
        logits = self.cur[idx] + self.prev[before] + self.pos[S - L : S]
        k = tokens[:, None, :, None].float()
        return logits, [(k, k.clone())]


class FixedLM(nn.Module):
    """The same logits at every position: top-k sets are known in advance."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", logits)

    def forward(self, idx, kv_cache=None):
        B, L = idx.shape
        length = L + (0 if kv_cache is None else kv_cache[0][0].shape[2])
        k = torch.zeros(B, 1, length, 1, device=idx.device)
        return self.logits.expand(B, L, -1), [(k, k)]


def generate(sub, model, idx, n, **kwargs):
    before = idx.clone()
    with substitute(sub, softmax=trusted_softmax):
        out = sub.generate(model, idx, n, **kwargs)
    assert isinstance(out, torch.Tensor), "generate must return a tensor of token ids"
    B, L = idx.shape
    assert tuple(out.shape) == (B, L + n), (
        f"generate must return (B, L + max_new_tokens) = {(B, L + n)}, got {tuple(out.shape)}"
    )
    assert out.dtype == torch.long, f"token ids are torch.long, got {out.dtype}"
    expect_equal(idx, before, "generate must not modify the prompt in place")
    expect_equal(out[:, :L], idx, "the output must start with the prompt, followed by the new tokens")
    return out


def prompt(seed, B, L):
    return torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(seed))


def seeded(seed, device):
    """A seeded generator on the sampling device (torch.multinomial needs one on the probabilities' device)."""
    return torch.Generator(device=device).manual_seed(seed)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("kind", ["gpt", "toy"])
def test_greedy_cached_equals_uncached(sub, observe, device, kind):
    """greedy decoding gives the same tokens with and without the cache"""
    model = trusted_gpt(device) if kind == "gpt" else ToyLM().to(device)
    idx = prompt(1, 3, 4).to(device)
    cached = generate(sub, model, idx, 10, temperature=0)
    uncached = generate(sub, model, idx, 10, temperature=0, use_cache=False)
    same = bool(torch.equal(cached, uncached))
    expect_equal(
        cached, uncached,
        ("greedy decoding with the cache must give exactly the tokens of full recomputation: feed the prompt once, "
        "then only the newest token together with the cache the model returned"),
    )
    observe("cached equals uncached", same)
    observe("greedy tokens", cached)


def test_greedy_is_argmax(sub, observe, device):
    """temperature 0 picks the argmax of the last position's logits at every step"""
    model = ToyLM(seed=1).to(device)
    idx = prompt(2, 2, 3).to(device)
    out = generate(sub, model, idx, 6, temperature=0)
    with torch.no_grad():
        for t in range(3, 9):
            logits, _ = model(out[:, :t])
            expect_equal(
                out[:, t], logits[:, -1].argmax(dim=-1),
                (f"token {t} is not the argmax of the logits at position {t - 1} (logits[:, -1, :] of the sequence "
                "so far): with temperature 0, next = logits[:, -1, :].argmax(-1)"),
            )
    observe("greedy tokens", out)


def test_top_k_one_is_greedy(sub, observe, device):
    """top_k=1 samples the argmax whatever the temperature"""
    model = trusted_gpt(device, seed=1)
    idx = prompt(3, 3, 4).to(device)
    greedy = generate(sub, model, idx, 8, temperature=0)
    top1 = generate(sub, model, idx, 8, temperature=1.3, top_k=1, generator=seeded(5, device))
    same = bool(torch.equal(top1, greedy))
    expect_equal(
        top1, greedy,
        "with top_k=1 only the largest logit survives (the others become -inf), so sampling is greedy",
    )
    observe("top_k=1 equals greedy", same)
    observe("tokens", top1)


SAMPLING = {"t1": (1.0, None), "t07": (0.7, None), "t15_k5": (1.5, 5), "t1_k3": (1.0, 3), "t04_k8": (0.4, 8),
            "k_above_vocab": (1.0, V + 5)}


@pytest.mark.parametrize("config", list(SAMPLING.values()), ids=list(SAMPLING))
def test_sampling_matches_reference(sub, observe, device, config):
    """draws the reference's tokens from a seeded generator (temperature, top-k)"""
    temperature, top_k = config
    model = trusted_gpt(device, seed=2)
    idx = prompt(4, 4, 3).to(device)
    out = generate(sub, model, idx, 10, temperature=temperature, top_k=top_k, generator=seeded(7, device))
    observe("sampled tokens", out)


def test_sampling_without_cache(sub, observe, device):
    """draws the reference's tokens without the cache too"""
    model = trusted_gpt(device, seed=3)
    idx = prompt(5, 4, 3).to(device)
    out = generate(sub, model, idx, 8, temperature=0.9, top_k=6, use_cache=False, generator=seeded(8, device))
    observe("sampled tokens", out)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_temperature(sub, observe, device, temperature):
    """divides the logits by the temperature before the softmax"""
    logits = torch.linspace(2.0, -2.0, 8)
    model = FixedLM(logits).to(device)
    idx = torch.zeros(64, 1, dtype=torch.long, device=device)
    out = generate(sub, model, idx, 4, temperature=temperature, generator=seeded(9, device))
    counts = torch.bincount(out[:, 1:].flatten().cpu(), minlength=8)
    observe("sampled tokens", out)
    observe("token counts", counts)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_top_k_filtering(sub, observe, device, k):
    """never samples outside the k largest logits"""
    logits = torch.tensor([0.3, 2.0, -1.0, 1.5, 0.9, 1.7, -0.2, 1.2, 0.0, 1.0])
    allowed = set(torch.topk(logits, k).indices.tolist())
    model = FixedLM(logits).to(device)
    idx = torch.zeros(64, 2, dtype=torch.long, device=device)
    out = generate(sub, model, idx, 5, temperature=3.0, top_k=k, generator=seeded(10 + k, device))
    drawn = set(out[:, 2:].flatten().tolist())
    assert drawn <= allowed, (
        f"with top_k={k} only the {k} largest logits (tokens {sorted(allowed)}) may be sampled, but tokens "
        f"{sorted(drawn - allowed)} were: keep the logits >= the k-th largest (torch.topk(logits, k).values[..., -1:]) "
        "and set the others to -inf before the softmax"
    )
    observe("sampled tokens", out)


@pytest.mark.parametrize("use_cache", [True, False], ids=["cached", "uncached"])
def test_calls(sub, observe, device, use_cache):
    """calls the model once with the prompt and then with one token and the cache (or the whole sequence)"""
    model = ToyLM(seed=2).to(device)
    idx = prompt(6, 2, 4).to(device)
    out = generate(sub, model, idx, 5, temperature=0.8, use_cache=use_cache, generator=seeded(11, device))
    calls = model.calls
    assert calls and not any(c["grad"] for c in calls), "generate must run the model under torch.no_grad()"
    if use_cache:
        assert calls[0]["length"] == 4 and not calls[0]["cached"], (
            "with use_cache=True the first call is model(prompt) without a cache"
        )
        rest = [(c["length"], c["cached"]) for c in calls[1:]]
        assert all(r == (1, True) for r in rest) and len(rest) >= 4, (
            "after the prompt, each step must feed ONLY the newest token, shape (B, 1), together with the cache the "
            f"previous call returned; the calls got (length, with cache) = {rest}"
        )
    else:
        got = [(c["length"], c["cached"]) for c in calls]
        assert got[:5] == [(4 + i, False) for i in range(5)], (
            "with use_cache=False every step recomputes the whole sequence so far without a cache; "
            f"the calls got (length, with cache) = {got}"
        )
    observe("tokens", out)


def test_no_grad(sub, observe, device):
    """returns tokens without building an autograd graph"""
    model = trusted_gpt(device, seed=4)
    idx = prompt(7, 2, 3).to(device)
    out = generate(sub, model, idx, 4, temperature=0.7, generator=seeded(12, device))
    assert not out.requires_grad, "generate must run under torch.no_grad()"
    assert all(p.grad is None for p in model.parameters()), "generate must not compute gradients"
    observe("tokens", out)


def test_one_token(sub, observe, device):
    """generates a single token"""
    model = trusted_gpt(device, seed=5)
    idx = prompt(8, 3, 5).to(device)
    observe("greedy", generate(sub, model, idx, 1, temperature=0))
    observe("sampled", generate(sub, model, idx, 1, temperature=1.0, generator=seeded(13, device)))


def test_rejects_bad_arguments(sub, observe, device):
    """raises ValueError for a negative temperature or top_k < 1"""
    model = ToyLM(seed=3).to(device)
    idx = prompt(9, 2, 3).to(device)
    for name, kwargs in {"temperature=-1": {"temperature": -1.0}, "top_k=0": {"top_k": 0}}.items():
        with substitute(sub, softmax=trusted_softmax):
            with pytest.raises(ValueError):
                sub.generate(model, idx, 3, generator=seeded(14, device), **kwargs)
        observe(f"{name} raises ValueError", True)
    observe("tokens", generate(sub, model, idx, 3, temperature=0.5, top_k=2, generator=seeded(15, device)))


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that generation wrong on every input of one kind (greedy, a temperature, top-k, with the cache)
# keeps at most a third; the tests above say which kind.
@pytest.mark.question("generate", weight=50)
def test_whole_contract(sub, observe, device):
    """greedy (cached and not), temperature, top-k, seeded sampling, the calls with and without the cache"""
    test_greedy_cached_equals_uncached(sub, observe, device, "toy")
    test_greedy_is_argmax(sub, observe, device)
    test_sampling_matches_reference(sub, observe, device, SAMPLING["t15_k5"])
    test_sampling_without_cache(sub, observe, device)
    test_temperature(sub, observe, device, 0.5)
    test_top_k_filtering(sub, observe, device, 3)
    test_calls(sub, observe, device, True)
    test_calls(sub, observe, device, False)
    test_no_grad(sub, observe, device)
    test_rejects_bad_arguments(sub, observe, device)

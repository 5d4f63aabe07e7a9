# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Transformers: from attention to a tiny GPT with a KV cache
#
# Every large language model is a stack of the same few pieces: a softmax, an attention that mixes
# information between positions, a way to tell positions apart, and a little MLP. In this
# assignment you write each piece from its equation, assemble them into a small GPT, train it on
# Python source code, make its sampling fast with a key/value cache, and watch it learn a
# mechanism (the *induction head*) that large models are known to use.
#
# **Learning goals.** By the end you can
#
# 1. write a numerically stable softmax and scaled dot-product attention with boolean, additive and
#    causal masks, and explain why cached decoding needs a *lower-right* causal mask;
# 2. explain sinusoidal and rotary (RoPE) position encodings, implement RoPE, and show that it makes
#    attention scores depend only on relative positions;
# 3. build multi-head attention with a fused QKV projection and a key/value cache, a pre-norm
#    transformer block and a tiny GPT;
# 4. write the next-token cross-entropy and a training step, and train a character-level model;
# 5. sample with temperature and top-k, and measure what the KV cache buys in speed and costs in memory;
# 6. read attention maps: see a previous-token head and an induction head form.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after to run the public tests. Only graded cells and cells made only of `import` statements
# run when grading, so a graded cell must not rely on variables defined in experiment cells
# (it may use functions and classes from other graded cells and the imports below). **Call the
# other graded functions by name** (`softmax` inside the attention, `scaled_dot_product_attention`
# and `apply_rope` inside the multi-head attention, and so on): the tests sometimes swap in a
# trusted version of a helper so that a bug costs points only in its own question.
# The experiments (training runs, plots) are not graded but you need them to answer the written
# questions. Set the environment variable `COURSE_SMOKE=1` to run every experiment at a tiny size.
#
# **What to expect.** At full size the whole notebook ran in 85 s on a recent 2-core CPU (allow up to
# 5 minutes on an older laptop; most of it trains the character-level GPT of section 9) and in well
# under that on a GPU. To try
# everything in seconds first, add `import os; os.environ["COURSE_SMOKE"] = "1"` to the setup cell
# (or start Jupyter with `COURSE_SMOKE=1` set), run all, then remove it for the real run.
#
# **Notation.** Shapes use these letters:
#
# | letter | meaning |
# | --- | --- |
# | `B` | batch size |
# | `L` | query length (the new tokens of this call) |
# | `S` | key/value length (past tokens from the cache + the new ones) |
# | `E` | head dimension of queries and keys (`Ev` for values) |
# | `D` | model width `d_model` |
# | `nh`, `hd` | number of heads, head dimension `hd = D / nh` |
# | `V` | vocabulary size |

# %%
import contextlib
import math
import os
import time

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from autograder import check, require
from shared import describe_device, get_device, seed_everything
from shared.data import IGNORE_INDEX, CharTokenizer, copy_task, induction_task, stdlib_text
from shared.plot import plot_curves
from shared.train import History

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
SEED = 0
seed_everything(SEED)
print(f"device={describe_device(device)}  smoke={SMOKE}")

# %% [markdown]
# ## 1. A numerically stable softmax
#
# The softmax turns a vector of scores into a probability distribution:
#
# $$
# \mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}} = \frac{e^{x_i - c}}{\sum_j e^{x_j - c}}
# \quad\text{for every constant } c .
# $$
#
# Computed literally, $e^{x_i}$ overflows to `inf` in float32 as soon as $x_i > 88.7$, and
# `inf / inf` is `nan`. Choosing $c = \max_j x_j$ makes the largest exponent $e^0 = 1$: nothing
# overflows, the denominator is at least 1, and the result is the same number.
#
# **Masked entries.** Attention sets the scores of forbidden positions to $-\infty$:
# $e^{-\infty} = 0$, so they get probability exactly 0. If *every* entry of a row is $-\infty$,
# then $c = -\infty$ and $x - c$ is `nan`: such a row has no valid distribution and your softmax
# may return `nan` there (PyTorch's `torch.softmax` does too). Do not try to hide it; a row with
# nothing to attend to is a bug in the mask.
#
# Work along the dimension `dim`, keep the shape and dtype. Do not use `torch.softmax`,
# `F.softmax`, `F.log_softmax`, `Tensor.softmax` or `torch.logsumexp`.

# %%
# GRADED: softmax
def softmax(x, dim=-1):
    """Numerically stable softmax of x along `dim`: exp(x - max) / sum(exp(x - max)).

    x: any shape, floating dtype; returns the same shape and dtype, entries in [0, 1] summing to 1
    along `dim`. Entries equal to -inf get probability 0; a slice that is entirely -inf gives nan.
    """
    # BEGIN SOLUTION
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    shift = x.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(x - shift)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=dim, keepdim=True)
    # END SOLUTION


# %%
check("softmax")

# %%
require("softmax")  # stops here, before any figure, if a question it uses is not written yet
x = torch.tensor([1.0, 2.0, 3.0])
naive = lambda t: torch.exp(t) / torch.exp(t).sum()  # noqa: E731
for shift in [0.0, 100.0]:
    print(f"x + {shift:>5}:  naive {naive(x + shift).tolist()}   stable {softmax(x + shift).tolist()}")
print("with -inf:", softmax(torch.tensor([0.0, float("-inf"), 0.0])).tolist())

# %% [markdown]
# ## 2. Scaled dot-product attention
#
# Each query attends to every key: its output is an average of the values, weighted by how well
# the query matches each key (Vaswani et al., "Attention is all you need", arXiv:1706.03762, Eq. 1):
#
# $$
# \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\Big(\frac{Q K^\top}{\sqrt{E}} + M\Big)\, V,
# \qquad Q \in \mathbb{R}^{L\times E},\; K \in \mathbb{R}^{S\times E},\; V \in \mathbb{R}^{S\times E_v}.
# $$
#
# **Why $1/\sqrt{E}$.** If the entries of $q$ and $k$ are independent with variance 1, the score
# $q\cdot k$ is a sum of $E$ terms and has variance $E$. Without the scale, wide heads give huge
# scores, a softmax that is almost one-hot, and vanishing gradients; dividing by $\sqrt{E}$ brings
# the variance back to 1.
#
# **Masks.** $M$ is an $L \times S$ matrix added to the scores:
#
# * a **boolean** mask (`mask.dtype == torch.bool`) means *True = may attend*; `False` entries get
#   score $-\infty$ (this is `F.scaled_dot_product_attention`'s convention; `nn.MultiheadAttention`
#   uses the opposite one, True = *masked out*, so read the docs of every API you use);
# * a **float** mask is simply added to the scores (e.g. $-\infty$ or a large negative number, or a
#   position bias);
# * `is_causal=True` adds a causal mask: a query may not look at keys *in its future*.
#
# Masks broadcast: `(L, S)`, `(B, 1, L, S)` or `(B, nh, L, S)` all work with `(B, nh, L, E)` queries.
#
# **Which keys are "in the future"? Lower-right alignment.** When $L = S$ (a whole sequence at
# once) query $i$ sees keys $j \le i$. During generation with a cache, we feed only the $L$ *newest*
# tokens, while the keys are all $S$ tokens so far: the queries are the *last* $L$ positions. So
# query $i$ sits at absolute position $i + S - L$ and may attend to
#
# $$
# j \le i + S - L \qquad \text{(the causal mask aligned to the lower-right corner).}
# $$
#
# `F.scaled_dot_product_attention(..., is_causal=True)` instead aligns the mask to the *top-left*
# corner ($j \le i$): one new query with six keys would see only key 0. The two agree when $L = S$.
# Your `is_causal=True` must be lower-right aligned; if both `mask` and `is_causal` are given, a
# key must be allowed by both. Rows where $L > S$ leaves nothing to attend to give `nan` (see the
# softmax); we never create them.
#
# Call your `softmax` by name, and take devices and dtypes from the inputs (build the causal mask
# on `q.device`).

# %%
# GRADED: attention
def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    """softmax(q k^T / sqrt(E) + mask) v, with an optional lower-right-aligned causal mask.

    q: (..., L, E), k: (..., S, E), v: (..., S, Ev) -> (..., L, Ev); leading dims broadcast.
    mask: None, a bool tensor (True = may attend) or a float tensor added to the scores,
          broadcastable to (..., L, S).
    is_causal: query i may attend key j iff j <= i + S - L (the queries are the last L positions).
    """
    # BEGIN SOLUTION
    L, S, E = q.size(-2), k.size(-2), q.size(-1)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(E)  # (..., L, S)
    neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
    if is_causal:
        i = torch.arange(L, device=q.device).unsqueeze(1)  # (L, 1)
        j = torch.arange(S, device=q.device).unsqueeze(0)  # (1, S)
        scores = torch.where(j <= i + (S - L), scores, neg_inf)  # lower-right aligned
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = torch.where(mask, scores, neg_inf)  # True = may attend
        else:
            scores = scores + mask  # additive mask
    weights = softmax(scores, dim=-1)  # (..., L, S)
    return weights @ v  # (..., L, Ev)
    # END SOLUTION


# %%
check("attention")

# %% [markdown]
# ### Looking at attention weights
#
# With $V = I_S$ (the identity matrix, so $E_v = S$) the output of attention *is* the weight
# matrix: row $i$ is the distribution of query $i$ over the keys. We use this to draw weights
# for 8 random queries and keys, without and with the causal mask, and for 3 new queries on
# 8 keys (a decoding step with a cache) with both alignments. The lower-right panel must reproduce
# the last three rows of the causal panel: that is what makes cached decoding exact.

# %%
require("attention")  # stops here, before any figure, if a question it uses is not written yet
gen = torch.Generator().manual_seed(0)
E_demo = 16
q_demo = torch.randn(8, E_demo, generator=gen)
k_demo = torch.randn(8, E_demo, generator=gen)


def attention_weights(q, k, **kwargs):
    """The (L, S) weight matrix: attention with V = identity returns it."""
    return scaled_dot_product_attention(q, k, torch.eye(k.size(-2)), **kwargs)


S_demo = 8
top_left = torch.ones(3, S_demo, dtype=torch.bool).tril()  # what PyTorch's is_causal does
panels = {
    "full (L = S = 8)": attention_weights(q_demo, k_demo),
    "causal (L = S = 8)": attention_weights(q_demo, k_demo, is_causal=True),
    "3 new queries, lower-right": attention_weights(q_demo[-3:], k_demo, is_causal=True),
    "3 new queries, top-left": attention_weights(q_demo[-3:], k_demo, mask=top_left),
}
fig, axes = plt.subplots(1, 4, figsize=(15, 3.2), constrained_layout=True)
for ax, (title, w) in zip(axes, panels.items()):
    im = ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("key j")
    ax.set_ylabel("query i")
    ax.set_yticks(range(w.size(0)))
fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
plt.show()

ref_tl = F.scaled_dot_product_attention(q_demo[-1:], k_demo, torch.eye(8), is_causal=True)
print("PyTorch is_causal, 1 query on 8 keys (top-left):", ref_tl.squeeze(0).round(decimals=2).tolist())
print("ours    is_causal, 1 query on 8 keys (lower-right):",
      attention_weights(q_demo[-1:], k_demo, is_causal=True).squeeze(0).round(decimals=2).tolist())

# %% [markdown]
# # GRADED: written_causal
# **Top-left versus lower-right.** Using the two right-hand panels, explain what a top-left-aligned
# and a lower-right-aligned causal mask allow when there are fewer queries than keys ($L < S$).
# Which one is correct when the $L$ queries are the newest tokens of a sequence whose first
# $S - L$ keys come from a cache, and what would go wrong if you used PyTorch's `is_causal=True`
# there? When do the two agree? (3 to 5 sentences.)
#
# BEGIN SOLUTION
# A top-left-aligned mask lets query $i$ see keys $j \le i$, as if the queries were the *first* $L$
# positions; a lower-right-aligned mask lets it see $j \le i + S - L$, as if they were the *last* $L$
# positions (in the plot, the three new queries see 6, 7 and 8 keys with lower-right alignment, but
# only 1, 2 and 3 with top-left). During cached decoding the new queries are the newest tokens, at
# absolute positions $S-L, \dots, S-1$, and every cached key is in their past, so the lower-right
# mask is the correct one: it reproduces exactly the rows of the full $S \times S$ causal mask.
# PyTorch's `is_causal=True` is top-left aligned, so with one new token and a cache of five it would
# let that token see only key 0 (the first token of the prompt) and ignore the rest of the context:
# the cached model would silently compute something different from the uncached one and generate
# garbage. The two alignments agree when $L = S$ (no cache, or the first call on the whole prompt),
# which is why the bug does not show up in training.
# END SOLUTION

# %% [markdown]
# ## 3. Position encodings: sinusoidal and rotary
#
# Attention by itself ignores order: permuting the keys and values permutes nothing in the output.
# The model must be told where each token is.
#
# **Sinusoidal encodings** (Vaswani et al., Section 3.5) *add* a fixed vector to each token's
# embedding, with frequencies in a geometric progression:
#
# $$
# PE(\mathrm{pos}, 2i) = \sin\!\big(\mathrm{pos} / 10000^{2i/d}\big), \qquad
# PE(\mathrm{pos}, 2i+1) = \cos\!\big(\mathrm{pos} / 10000^{2i/d}\big).
# $$
#
# The query-key score of two tokens then mixes content and *absolute* positions:
# $(x_m + p_m)^\top W_q^\top W_k (x_n + p_n)$ has terms that depend on $m$ and $n$ separately.
#
# **Rotary position embedding** (RoPE; Su et al., "RoFormer", arXiv:2104.09864, Eq. 34) instead
# *rotates* each query and key, pair of coordinates by pair of coordinates, by an angle
# proportional to its position. With $E$ even and $\theta_i = \text{base}^{-2i/E}$,
# $i = 0, \dots, E/2 - 1$, the pair $(x_{2i}, x_{2i+1})$ of a vector at position $m$ becomes
#
# $$
# \begin{pmatrix} x'_{2i} \\ x'_{2i+1} \end{pmatrix} =
# \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\ \sin m\theta_i & \cos m\theta_i \end{pmatrix}
# \begin{pmatrix} x_{2i} \\ x_{2i+1} \end{pmatrix}
# = \begin{pmatrix} x_{2i}\cos m\theta_i - x_{2i+1}\sin m\theta_i \\ x_{2i}\sin m\theta_i + x_{2i+1}\cos m\theta_i
# \end{pmatrix}.
# $$
#
# Rotations are orthogonal ($R_m^\top R_n = R_{n-m}$), so
# $\langle R_m q, R_n k\rangle = q^\top R_{n-m} k$: **the score depends on the positions only
# through $n - m$**, and norms are unchanged.
#
# **Convention.** We rotate *interleaved* pairs $(2i, 2i+1)$, as in the RoFormer paper and Meta's
# LLaMA code. Hugging Face's implementation pairs coordinate $i$ with $i + E/2$ ("rotate half");
# the two give the same scores only after permuting the coordinates of $q$ and $k$, so weights
# cannot be exchanged between them without that permutation.
#
# **Precision.** The angle $m\theta_i$ grows with the position: at $m = 300$, bfloat16 cannot even
# represent $m$ exactly, and float16's spacing there is 0.25 rad. Compute angles, cosines and
# sines in at least float32 (float64 when `x` is float64), rotate in that precision, and cast the
# result back to `x.dtype`. `positions` may be an integer or a float tensor of shape `(L,)` and may
# live on another device than `x` (move it). Raise `ValueError` if `E` is odd or `positions` does
# not have shape `(L,)`.

# %%
# GRADED: rope
def apply_rope(x, positions, base=10000.0):
    """Rotary position embedding with interleaved pairs (RoFormer, Eq. 34).

    x: (..., L, E) with E even; positions: (L,) integer or float tensor.
    theta_i = base ** (-2i / E), i in [0, E/2); the pair (x[..., 2i], x[..., 2i+1]) at position m
    is rotated by the angle m * theta_i:  (x0 cos - x1 sin, x0 sin + x1 cos).
    Returns a tensor of x's shape and dtype.
    """
    # BEGIN SOLUTION
    L, E = x.size(-2), x.size(-1)
    if E % 2 != 0:
        raise ValueError(f"apply_rope needs an even last dimension, got {E}")
    if positions.shape != (L,):
        raise ValueError(f"positions must have shape ({L},), got {tuple(positions.shape)}")
    # float32 at least: half-precision angles are wrong by far more than the rotation's effect
    dtype = torch.promote_types(x.dtype, torch.float32)
    theta = base ** (-torch.arange(0, E, 2, device=x.device, dtype=dtype) / E)  # (E/2,)
    angles = positions.to(device=x.device, dtype=dtype).unsqueeze(-1) * theta  # (L, E/2)
    cos, sin = torch.cos(angles), torch.sin(angles)
    xf = x.to(dtype)
    x0, x1 = xf[..., 0::2], xf[..., 1::2]  # (..., L, E/2) each
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)  # (..., L, E/2, 2)
    return out.flatten(-2).to(x.dtype)  # (..., L, E), pairs interleaved again
    # END SOLUTION


# %%
check("rope")

# %% [markdown]
# ### Experiment: what the two encodings do to a query-key score
#
# Left: the sinusoidal matrix $PE$ (rows are positions). Middle: the RoPE score
# $\langle R_m q, R_n k\rangle$ of a random query $q$ and a key that matches it ($k = q$ + noise),
# as a function of the offset $n - m$, for three different absolute positions $m$: the three curves
# are the same curve. Right: the same score with sinusoidal encodings added instead,
# $\langle q + p_m, k + p_n\rangle$: it changes with $m$.

# %%
require("rope")  # stops here, before any figure, if a question it uses is not written yet
def sinusoidal_pe(n_positions, d):
    """(n_positions, d): PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same)."""
    pos = torch.arange(n_positions, dtype=torch.float64).unsqueeze(1)  # (P, 1)
    freq = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    pe = torch.zeros(n_positions, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


pe = sinusoidal_pe(128, 64)
print(f"PE[1, 0] = {pe[1, 0]:.6f}   PE[1, 1] = {pe[1, 1]:.6f}")

gen = torch.Generator().manual_seed(1)
d_rope = 64
q_vec = torch.randn(d_rope, generator=gen, dtype=torch.float64)
k_vec = q_vec + 0.5 * torch.randn(d_rope, generator=gen, dtype=torch.float64)  # a key that matches q
offsets = torch.arange(-40, 41)
fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
im = axes[0].imshow(pe, cmap="RdBu", aspect="auto")
axes[0].set_xlabel("dimension")
axes[0].set_ylabel("position")
axes[0].set_title("sinusoidal PE")
fig.colorbar(im, ax=axes[0])
pe_long = sinusoidal_pe(300, d_rope)  # (300, E)
for m in [40, 100, 200]:
    n = m + offsets  # (N,) key positions
    rq = apply_rope(q_vec.expand(len(n), d_rope), torch.full((len(n),), m))  # (N, E): q at position m
    rk = apply_rope(k_vec.expand(len(n), d_rope), n)  # (N, E): k at positions n
    axes[1].plot(offsets, (rq * rk).sum(-1), label=f"m = {m}", lw=3.5 - m / 80)
    axes[2].plot(offsets, ((q_vec + pe_long[m]) * (k_vec + pe_long[n])).sum(-1), label=f"m = {m}")
axes[1].set_title(r"RoPE: $\langle R_m q, R_n k\rangle$")
axes[2].set_title(r"sinusoidal: $\langle q + p_m, k + p_n\rangle$")
for ax in axes[1:]:
    ax.set_xlabel("offset n - m")
    ax.set_ylabel("score")
    ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# # GRADED: written_rope
# **Sinusoidal versus rotary.** Explain the difference between adding sinusoidal encodings to the
# embeddings and rotating queries and keys with RoPE. Show (one line of algebra) why the RoPE score
# $\langle R_m q, R_n k\rangle$ depends only on $n - m$, and say what you see in the middle and
# right plots. Why is a score that depends on relative position useful for a language model, and
# why does it matter for a KV cache that the keys are rotated before they are stored? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# Sinusoidal encodings are added once to the token embeddings, so every later query and key is a
# mix of content and *absolute* position: the score $(x_m + p_m)^\top W (x_n + p_n)$ has cross
# terms such as $x_m^\top W p_n$ that depend on $m$ and $n$ separately (only the $p_m^\top p_n$ part
# is a function of $n - m$). RoPE leaves the residual stream alone and rotates each query and key
# inside every attention layer by angles proportional to its position; rotations are orthogonal
# and rotations in the same planes compose by adding angles, so
# $\langle R_m q, R_n k\rangle = q^\top R_m^\top R_n k = q^\top R_{n-m} k$, a function of the offset
# only. In the middle plot the curves for $m = 40, 100, 200$ lie exactly on top of each other
# (peaking at offset 0, where the matching key is not rotated relative to the query), while in the
# right plot the sinusoidal curves shift and change shape from one $m$ to the next. For language,
# "the previous token" or "the token four back" matters far more than absolute indices, so a head
# can learn a relative pattern once and apply it at every position, including positions longer than
# those seen in training (the induction experiment below relies on this). For the cache it means a
# key is rotated once with its own position and never needs updating: a new query is rotated with
# its own position and the score comes out relative all the same.
# END SOLUTION

# %% [markdown]
# ## 4. Multi-head attention with a fused projection and a KV cache
#
# A layer of multi-head attention projects the input $x$ `(B, L, D)` to queries, keys and values,
# splits each into `nh` heads of width `hd = D / nh`, runs attention in every head in parallel, and
# projects the concatenated heads back:
#
# $$
# [Q\,|\,K\,|\,V] = x W_{qkv}^\top + b_{qkv}, \qquad
# y = \mathrm{concat}_h\big(\mathrm{Attention}(Q_h, K_h, V_h)\big)\, W_o^\top + b_o .
# $$
#
# **Layout (the tests load weights through it).** `self.qkv = nn.Linear(D, 3D)`: output features
# `0:D` are the queries, `D:2D` the keys, `2D:3D` the values; inside each, head `h` owns features
# `h*hd:(h+1)*hd`. So `q.view(B, L, nh, hd).transpose(1, 2)` gives `(B, nh, L, hd)`.
# `self.proj = nn.Linear(D, D)` maps the merged heads (head 0's features first) back.
#
# **KV cache.** When generating, the keys and values of past tokens never change, so we keep them:
# `kv_cache = (k_past, v_past)`, each `(B, nh, S_past, hd)`. The new keys and values
# `(B, nh, L, hd)` are concatenated *after* the past along dim 2, attention runs over all
# `S = S_past + L` keys, and `forward` returns the concatenated pair as the new cache (also when
# no cache came in, so that the first call on a prompt starts one).
#
# **RoPE inside.** With `rope=True`, rotate `q` and `k` (per head, last dimension `hd`) with
# `apply_rope` at the positions `S_past, ..., S_past + L - 1` (the new tokens come after the cached
# ones) *before* storing `k` in the cache. The values are not rotated.
#
# Pass `mask` and `is_causal` through to your `scaled_dot_product_attention`. The constructor's
# parameters are given; add the argument checks (raise `ValueError` when `d_model` is not divisible
# by `n_heads`, and when `rope=True` and `hd` is odd).

# %%
# GRADED: mha
class MultiHeadAttention(nn.Module):
    """Multi-head self-attention with a fused QKV projection, optional RoPE and a KV cache.

    qkv:  nn.Linear(D, 3D), output features [q | k | v], head h of each uses features h*hd:(h+1)*hd
    proj: nn.Linear(D, D)
    forward(x (B, L, D), mask=None, is_causal=False, kv_cache=None) -> (y (B, L, D), (k, v)),
    k and v: (B, nh, S_past + L, hd), the past (if any) followed by the new tokens.
    """

    def __init__(self, d_model, n_heads, rope=False, rope_base=10000.0, bias=True):
        super().__init__()
        # Raise ValueError if d_model % n_heads != 0, or if rope and the head dimension is odd.
        # BEGIN SOLUTION
        if d_model % n_heads != 0:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        if rope and (d_model // n_heads) % 2 != 0:
            raise ValueError(f"RoPE needs an even head dimension, got {d_model // n_heads}")
        # END SOLUTION
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.rope, self.rope_base = rope, rope_base
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, mask=None, is_causal=False, kv_cache=None):
        B, L, D = x.shape
        nh, hd = self.n_heads, self.head_dim
        # BEGIN SOLUTION
        q, k, v = self.qkv(x).split(D, dim=-1)  # (B, L, D) each
        q = q.view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        k = k.view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        v = v.view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)
        s_past = 0 if kv_cache is None else kv_cache[0].size(2)
        if self.rope:
            positions = torch.arange(s_past, s_past + L, device=x.device)  # (L,)
            q = apply_rope(q, positions, self.rope_base)
            k = apply_rope(k, positions, self.rope_base)  # rotated once, before it is cached
        if kv_cache is not None:
            k = torch.cat([kv_cache[0], k], dim=2)  # (B, nh, S, hd)
            v = torch.cat([kv_cache[1], v], dim=2)  # (B, nh, S, hd)
        y = scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal)  # (B, nh, L, hd)
        y = y.transpose(1, 2).reshape(B, L, D)  # (B, L, D), heads side by side
        return self.proj(y), (k, v)
        # END SOLUTION


# %%
check("mha")

# %% [markdown]
# ## 5. A pre-norm transformer block and TinyGPT
#
# A block adds two things to the residual stream: what attention reads from other positions, and
# what a position-wise MLP computes from it. We normalise *before* each sub-layer ("pre-norm",
# as in GPT-2 and every model since; Xiong et al., arXiv:2002.04745), which keeps the residual
# stream an identity path and lets deep stacks train without warmup tricks:
#
# $$
# x \leftarrow x + \mathrm{MHA}(\mathrm{LN}_1(x)) \quad\text{(causal)}, \qquad
# x \leftarrow x + \mathrm{MLP}(\mathrm{LN}_2(x)), \qquad
# \mathrm{MLP}(h) = W_2\, \mathrm{GELU}(W_1 h + b_1) + b_2 .
# $$
#
# The block's attention is always causal, uses RoPE (no learned position embedding anywhere), and
# passes the cache through: `forward(x, kv_cache=None) -> (x, cache)`.
#
# **TinyGPT** embeds token ids, runs the blocks, normalises, and maps to logits over the
# vocabulary:
#
# $$
# h_0 = \mathrm{Emb}(\text{idx}), \qquad h_\ell = \mathrm{Block}_\ell(h_{\ell-1}), \qquad
# \text{logits} = \mathrm{LN}_f(h_{n})\, W_{\text{head}}^\top .
# $$
#
# `forward(idx, kv_cache=None) -> (logits, caches)`: `idx` `(B, L)` long, `kv_cache` None or a
# list with one `(k, v)` per block; returns logits `(B, L, V)` and the list of the blocks' new
# caches. Positions need no special handling: each attention layer reads them from its cache
# length. Raise `ValueError` if a cache list has the wrong length.

# %%
# GRADED: block
class TransformerBlock(nn.Module):
    """Pre-norm causal block: x = x + attn(ln1(x)); x = x + mlp(ln2(x)).

    forward(x (B, L, D), kv_cache=None) -> (x (B, L, D), (k, v) of this block's attention)
    """

    def __init__(self, d_model, n_heads, mlp_ratio=4, rope=True):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, rope=rope)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, mlp_ratio * d_model), nn.GELU(), nn.Linear(mlp_ratio * d_model, d_model)
        )

    def forward(self, x, kv_cache=None):
        # BEGIN SOLUTION
        a, cache = self.attn(self.ln1(x), is_causal=True, kv_cache=kv_cache)  # (B, L, D)
        x = x + a
        x = x + self.mlp(self.ln2(x))
        return x, cache
        # END SOLUTION


# %%
check("block")

# %%
# GRADED: gpt
class TinyGPT(nn.Module):
    """A decoder-only transformer with rotary positions and a KV cache.

    tok_emb: nn.Embedding(V, D); blocks: n_layers x TransformerBlock(D, nh); ln_f: LayerNorm(D);
    head: nn.Linear(D, V, bias=False).
    forward(idx (B, L) long, kv_cache=None or [(k, v)] * n_layers) -> (logits (B, L, V), [(k, v)] * n_layers)
    """

    def __init__(self, vocab_size, d_model=64, n_heads=4, n_layers=2):
        super().__init__()
        self.vocab_size = vocab_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList([TransformerBlock(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, idx, kv_cache=None):
        # BEGIN SOLUTION
        if kv_cache is not None and len(kv_cache) != len(self.blocks):
            raise ValueError(f"kv_cache has {len(kv_cache)} entries, the model has {len(self.blocks)} blocks")
        x = self.tok_emb(idx)  # (B, L, D)
        caches = []
        for i, block in enumerate(self.blocks):
            x, cache = block(x, kv_cache=None if kv_cache is None else kv_cache[i])
            caches.append(cache)
        return self.head(self.ln_f(x)), caches  # (B, L, V)
        # END SOLUTION


# %%
check("gpt")

# %%
require("gpt")  # stops here, before any figure, if a question it uses is not written yet
demo_model = TinyGPT(vocab_size=50)
n_params = sum(p.numel() for p in demo_model.parameters())
print(f"TinyGPT(50) has {n_params:,} parameters")
for name, p in list(demo_model.named_parameters())[:8]:
    print(f"  {name:<28} {tuple(p.shape)}")

# %% [markdown]
# ## 6. The next-token loss
#
# A language model is trained to predict every next token at once. The logits at position $t$
# predict the token at $t + 1$, so the last position has no target:
#
# $$
# \mathcal{L} = -\frac{1}{|T|} \sum_{(b,t) \in T} \log \mathrm{softmax}(z_{b,t})_{y_{b,t+1}},
# \qquad T = \{(b, t) : 0 \le t \le L-2,\ y_{b,t+1} \ne \texttt{ignore\_index}\}.
# $$
#
# **Stable log-softmax.** $\log\mathrm{softmax}(z)_c = z_c - \log\sum_j e^{z_j}$, and the
# log-sum-exp is computed as $m + \log\sum_j e^{z_j - m}$ with $m = \max_j z_j$ (the same trick as
# the softmax). Never take the log of a softmax: a probability that underflows to 0 gives
# $\log 0 = -\infty$ where the true loss is finite.
#
# **ignore_index.** Target positions equal to `ignore_index` (the data's way to say "this token is
# unpredictable", e.g. the random first half of the copy task) do not count, neither in the sum
# nor in $|T|$. Pick the target logit with `gather` (replace ignored targets by a valid index first:
# `-100` is not an index). Return a 0-dim tensor; with no valid target it is `nan`, like
# `F.cross_entropy`. Do not use `F.cross_entropy`, `F.nll_loss`, `log_softmax` or their modules.
# Raise `ValueError` when the shapes of `logits` and `tokens` do not match `(B, L, V)` and `(B, L)`.

# %%
# GRADED: loss
def lm_loss(logits, tokens, ignore_index=-100):
    """Mean next-token cross-entropy: logits[:, t] predicts tokens[:, t + 1].

    logits: (B, L, V) float; tokens: (B, L) long. Positions whose target tokens[:, t + 1] equals
    ignore_index are left out of the mean. Returns a 0-dim tensor.
    """
    # BEGIN SOLUTION
    if logits.dim() != 3 or tokens.shape != logits.shape[:2]:
        raise ValueError(f"expected logits (B, L, V) and tokens (B, L), got {tuple(logits.shape)} "
                         f"and {tuple(tokens.shape)}")
    z = logits[:, :-1, :]  # (B, L-1, V): predictions for positions 1 .. L-1
    z = z.to(torch.promote_types(z.dtype, torch.float32))  # log-sum-exp in at least float32
    target = tokens[:, 1:]  # (B, L-1)
    valid = target != ignore_index  # (B, L-1)
    z = z - z.amax(dim=-1, keepdim=True).detach()  # shifted logits: max is 0
    log_norm = torch.log(torch.exp(z).sum(dim=-1))  # (B, L-1), log-sum-exp of the shifted logits
    picked = z.gather(-1, target.masked_fill(~valid, 0).unsqueeze(-1)).squeeze(-1)  # (B, L-1)
    nll = torch.where(valid, log_norm - picked, torch.zeros_like(log_norm))  # -log p(target)
    return nll.sum() / valid.sum()
    # END SOLUTION


# %%
check("loss")

# %%
require("loss")  # stops here, before any figure, if a question it uses is not written yet
logits_demo = torch.randn(2, 5, 7, generator=torch.Generator().manual_seed(0))
tokens_demo = torch.randint(0, 7, (2, 5), generator=torch.Generator().manual_seed(1))
print(f"lm_loss: {lm_loss(logits_demo, tokens_demo):.6f}   "
      f"F.cross_entropy: {F.cross_entropy(logits_demo[:, :-1].reshape(-1, 7), tokens_demo[:, 1:].reshape(-1)):.6f}   "
      f"uniform guess log V = {math.log(7):.6f}")

# %% [markdown]
# ## 7. Generating text: greedy, temperature, top-k, and the cache
#
# Generation appends one token at a time. At each step the model's logits for the *last* position
# define the distribution of the next token; the recipe below is the one the tests follow exactly
# (they compare your tokens with the reference's under the same `torch.Generator`):
#
# 1. Everything runs under `torch.no_grad()`. Leave the model's train/eval mode alone: that is the
#    caller's choice (our model has no dropout, so it does not matter here).
# 2. **With the cache** (`use_cache=True`): the first step calls `model(idx)` on the whole prompt
#    and keeps the returned caches; every later step calls the model on the last new token only,
#    `idx[:, -1:]`, with the cache. **Without** it, every step recomputes `model(idx)` on the full
#    sequence so far.
# 3. Take `logits[:, -1, :]` `(B, V)` and convert it with `.float()`.
# 4. `temperature == 0`: greedy, `next = logits.argmax(dim=-1, keepdim=True)` (ties go to the lowest
#    index). Otherwise divide the logits by the temperature; if `top_k` is given keep only the
#    `top_k` largest: `v = torch.topk(logits, min(top_k, V)).values[:, -1:]` and
#    `logits[logits < v] = -inf` (ties with the k-th value stay); `probs = softmax(logits, dim=-1)`
#    (your softmax, by name); `next = torch.multinomial(probs, num_samples=1, generator=generator)`.
# 5. Append `next` `(B, 1)` to `idx`. Return `(B, L + max_new_tokens)`.
#
# A low temperature sharpens the distribution towards the argmax (greedy is its limit), a high one
# flattens it towards uniform. Top-k removes the long tail of unlikely tokens, which is where
# sampling goes off the rails. Raise `ValueError` for a negative temperature or `top_k < 1`.

# %%
# GRADED: generate
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, use_cache=True, generator=None):
    """Append max_new_tokens sampled tokens to idx (B, L); returns (B, L + max_new_tokens).

    temperature == 0 is greedy (argmax); otherwise sample from softmax(logits / temperature),
    restricted to the top_k largest logits if top_k is given. With use_cache the prompt is run once
    and then only the newest token is fed, with the KV cache.
    """
    # BEGIN SOLUTION
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    with torch.no_grad():
        cache = None
        for _ in range(max_new_tokens):
            if not use_cache:
                logits, _ = model(idx)  # (B, T, V): the whole sequence every time
            elif cache is None:
                logits, cache = model(idx)  # the prompt, once
            else:
                logits, cache = model(idx[:, -1:], kv_cache=cache)  # (B, 1, V): only the newest token
            logits = logits[:, -1, :].float()  # (B, V)
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                logits = logits / temperature
                if top_k is not None:
                    v = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]  # (B, 1), k-th largest
                    logits[logits < v] = float("-inf")
                probs = softmax(logits, dim=-1)  # (B, V)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
    return idx
    # END SOLUTION


# %%
check("generate")

# %% [markdown]
# ## 8. A training step
#
# One step of training: clear the gradients, compute the next-token loss of the model on a batch
# of token sequences, backpropagate, clip the global gradient norm (a cheap guard against the
# occasional huge gradient that would throw training off course), and update:
#
# ```
# optimizer.zero_grad(set_to_none=True)
# logits, _ = model(tokens)
# loss = lm_loss(logits, tokens)
# loss.backward()
# torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)     # unless grad_clip is None
# optimizer.step()
# ```
#
# Return the loss as a Python float (`loss.item()`). Use your `lm_loss` by name. Like `generate`,
# leave the model's mode alone. The tests train your own model with this step and
# `torch.optim.AdamW` on a small synthetic task for a few seconds and check its accuracy, so this
# question also depends on everything before it.

# %%
# GRADED: train
def train_step(model, optimizer, tokens, grad_clip=1.0):
    """One optimisation step on the next-token loss of tokens (B, L); returns the loss as a float."""
    # BEGIN SOLUTION
    optimizer.zero_grad(set_to_none=True)
    logits, _ = model(tokens)  # (B, L, V)
    loss = lm_loss(logits, tokens)
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss.item()
    # END SOLUTION


# %%
check("train")

# %% [markdown]
# ### Experiment: learning to copy in a few seconds
#
# The copy task: a random sequence of `n` tokens, a separator, then the same sequence again.
# The first half is unpredictable; every token of the second half is determined (the token `n + 1`
# positions back). With RoPE, "look exactly `n + 1` positions back" is a single relative-position
# pattern, and a tiny model learns it in a few hundred steps. This is the test your `train_step`
# has to pass (on one CPU thread); accuracy counts only the predictable positions.

# %%
require("gpt", "train")  # stops here, before any figure, if a question it uses is not written yet
@torch.no_grad()
def next_token_accuracy(model, x, y):
    """Fraction of positions with a target (y != IGNORE_INDEX) where argmax of the logits == y.
    x, y: (N, T) as made by copy_task / induction_task (y[:, t] is the token after x[:, t])."""
    logits, _ = model(x)  # (N, T, V)
    keep = y != IGNORE_INDEX
    return (logits.argmax(-1) == y)[keep].float().mean().item()


@contextlib.contextmanager
def one_thread():
    """Run a block on one CPU thread (tiny ops pay more for thread synchronisation than they gain)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


COPY = dict(vocab=16, seq_len=8, d_model=32, n_heads=4, n_layers=2, lr=3e-3, batch=32, steps=200)
seed_everything(SEED)
copy_model = TinyGPT(COPY["vocab"], COPY["d_model"], COPY["n_heads"], COPY["n_layers"]).to(device)
copy_opt = torch.optim.AdamW(copy_model.parameters(), lr=COPY["lr"])
copy_x_val, copy_y_val = copy_task(512, COPY["seq_len"], COPY["vocab"], seed=1)
copy_steps = 50 if SMOKE else COPY["steps"]
with one_thread():  # what the test uses
    t0 = time.perf_counter()
    for step in range(copy_steps):
        x, _ = copy_task(COPY["batch"], COPY["seq_len"], COPY["vocab"], seed=1000 + step)
        loss = train_step(copy_model, copy_opt, x.to(device))
    seconds = time.perf_counter() - t0
accuracy = next_token_accuracy(copy_model, copy_x_val.to(device), copy_y_val.to(device))
floor = (COPY["seq_len"] - 1) / (2 * COPY["seq_len"] - 1) * math.log(COPY["vocab"] - 1)  # random first half
print(f"{copy_steps} steps in {seconds:.1f} s on 1 thread: loss {loss:.3f} (the random first half alone "
      f"costs about {floor:.3f}), held-out accuracy on the copied half {accuracy:.3f}")

# %% [markdown]
# ## 9. Experiment: a character-level GPT on Python source code
#
# Our corpus is Python's own standard library (`json`, `csv`, `argparse`, ...), about 440,000
# characters, read from the installed sources: no download. Each character is a token
# (`CharTokenizer`, about 100 symbols). We hold out the last 10% of the text for validation and
# train on random windows of the rest with AdamW, a short warmup and a cosine decay, using your
# `train_step`. A uniform guess costs $\log V \approx 4.6$ nats per character.

# %%
require("train")  # stops here, before any figure, if a question it uses is not written yet
text = stdlib_text(max_chars=20_000 if SMOKE else 500_000)
tokenizer = CharTokenizer(text)
data = tokenizer.encode(text)  # (N,) long
n_train = int(0.9 * len(data))
train_data, val_data = data[:n_train], data[n_train:]
print(f"{len(text):,} characters, vocabulary of {tokenizer.vocab_size}; "
      f"train {len(train_data):,} / validation {len(val_data):,}")
print(repr(text[200:420]))


def random_windows(source, batch_size, seq_len, generator):
    """(batch_size, seq_len) windows of `source` starting at random offsets."""
    starts = torch.randint(0, len(source) - seq_len, (batch_size,), generator=generator)
    return torch.stack([source[s : s + seq_len] for s in starts.tolist()])


def warmup_cosine(total_steps, warmup_steps):
    """Learning-rate multiplier for LambdaLR: linear warmup, then a cosine decay to 0."""
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def fit(model, optimizer, next_batch, steps, desc, schedule=None, evaluate=None, eval_every=100):
    """Train with train_step for `steps` steps; returns a History with per-step "train_loss" and,
    every `eval_every` steps (and at the end), the dict returned by evaluate() under "eval_<key>",
    with the steps in "eval_step"."""
    history = History()
    for step in (bar := tqdm(range(steps), desc=desc, mininterval=1.0)):
        loss = train_step(model, optimizer, next_batch(step))
        if schedule is not None:
            schedule.step()
        history.add("train_loss", loss)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        if evaluate is not None and ((step + 1) % eval_every == 0 or step + 1 == steps):
            history.add("eval_step", step + 1)
            for key, value in evaluate().items():
                history.add(f"eval_{key}", value)
    return history


# %%
require("gpt", "loss")  # stops here, before any figure, if a question it uses is not written yet
# 3 layers and 600 steps keep the whole notebook within about 5 minutes on a 2-core CPU
# (4 layers and 1000 steps reach a slightly lower loss in about 300 s for this cell alone).
CHAR = dict(d_model=128, n_heads=4, n_layers=3, seq_len=64, batch=32, lr=3e-3, steps=600)
if SMOKE:
    CHAR.update(d_model=32, n_layers=1, steps=20)
seed_everything(SEED)
char_model = TinyGPT(tokenizer.vocab_size, CHAR["d_model"], CHAR["n_heads"], CHAR["n_layers"]).to(device)
print(f"TinyGPT: {sum(p.numel() for p in char_model.parameters()):,} parameters")
char_opt = torch.optim.AdamW(char_model.parameters(), lr=CHAR["lr"], weight_decay=0.01)
char_sched = torch.optim.lr_scheduler.LambdaLR(char_opt, warmup_cosine(CHAR["steps"], CHAR["steps"] // 20))
train_gen = torch.Generator().manual_seed(SEED)
val_batch = random_windows(val_data, 64, CHAR["seq_len"], torch.Generator().manual_seed(1)).to(device)


@torch.no_grad()
def char_eval():
    logits, _ = char_model(val_batch)
    return {"val_loss": lm_loss(logits, val_batch).item()}


t0 = time.perf_counter()
char_history = fit(char_model, char_opt,
                   lambda step: random_windows(train_data, CHAR["batch"], CHAR["seq_len"], train_gen).to(device),
                   CHAR["steps"], "char GPT", schedule=char_sched, evaluate=char_eval,
                   eval_every=max(1, CHAR["steps"] // 10))
print(f"trained {CHAR['steps']} steps in {time.perf_counter() - t0:.0f} s; "
      f"validation loss {char_history.last('eval_val_loss'):.3f} nats/char")

ax = plot_curves({"train (per step)": char_history}, smooth=20, title="character GPT on stdlib sources")
ax.plot(char_history["eval_step"], char_history["eval_val_loss"], "o-", label="validation")
ax.axhline(math.log(tokenizer.vocab_size), color="grey", ls="--", lw=0.8, label="uniform guess")
ax.set_ylabel("loss (nats per character)")
ax.legend()
plt.show()

# %% [markdown]
# Samples from the same prompt: greedy decoding, then sampling at two temperatures with and
# without top-k. Greedy decoding tends to loop; a high temperature produces character soup.

# %%
require("generate")  # stops here, before any figure, if a question it uses is not written yet
prompt = tokenizer.encode("    def ").unsqueeze(0).to(device)  # (1, 8)
n_sample = 60 if SMOKE else 300
for label, kwargs in [("greedy", dict(temperature=0.0)),
                      ("temperature 0.8, top-k 10", dict(temperature=0.8, top_k=10)),
                      ("temperature 1.5", dict(temperature=1.5))]:
    sample_gen = torch.Generator(device=device).manual_seed(SEED)
    out = generate(char_model, prompt, n_sample, generator=sample_gen, **kwargs)
    print(f"----- {label} -----")
    print(tokenizer.decode(out[0]))

# %% [markdown]
# ## 10. Experiment: what the KV cache buys
#
# Without a cache, step $t$ of generation runs the whole model on all $t$ tokens so far, although
# only the last position's logits are used and the keys and values of the first $t - 1$ tokens are
# the same as in the previous step. With the cache, step $t$ runs the model on one token and attends
# to $t$ stored keys. We time greedy generation of $N$ tokens from a one-character prompt with the
# trained model, both ways, and first make sure both give exactly the same tokens. The timings run
# on one CPU thread: this model's operations are so small that a second thread mostly adds
# synchronisation, especially on a busy machine.

# %%
require("generate")  # stops here, before any figure, if a question it uses is not written yet
bench_lengths = [8, 16] if SMOKE else [32, 64, 128, 256, 512]
start = tokenizer.encode("\n").view(1, 1).to(device)
cached_out = generate(char_model, start, bench_lengths[-1], temperature=0.0, use_cache=True)
uncached_out = generate(char_model, start, bench_lengths[-1], temperature=0.0, use_cache=False)
print("cached and uncached greedy tokens identical:", torch.equal(cached_out, uncached_out))


def tokens_per_second(n, use_cache):
    best = float("inf")
    for _ in range(3 if n <= 128 else 2):  # best of a few: timings on a shared machine are noisy
        t0 = time.perf_counter()
        generate(char_model, start, n, temperature=0.0, use_cache=use_cache)
        best = min(best, time.perf_counter() - t0)
    return n / best


speed = {True: [], False: []}
for n in bench_lengths:
    with one_thread():  # one thread: the timings measure the algorithm, not the thread pool
        for use_cache in (True, False):
            speed[use_cache].append(tokens_per_second(n, use_cache))
    print(f"N = {n:4d}: {speed[True][-1]:7.0f} tokens/s with the cache, {speed[False][-1]:7.0f} without "
          f"(speedup {speed[True][-1] / speed[False][-1]:.1f}x)")

fig, ax = plt.subplots(figsize=(6, 3.8))
ax.plot(bench_lengths, speed[True], "o-", label="with KV cache")
ax.plot(bench_lengths, speed[False], "s-", label="recompute everything")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("tokens generated N")
ax.set_ylabel("tokens per second")
ax.set_title("greedy generation, one CPU thread" if device.type == "cpu" else f"greedy generation, {device}")
ax.legend()
plt.show()

# memory: one key and one value vector of width D per layer and per token
n_layers, d_model = len(char_model.blocks), char_model.tok_emb.embedding_dim
bytes_per_token = 2 * n_layers * d_model * 4  # float32
with torch.no_grad():
    cache = char_model(cached_out)[1]
cache_bytes = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in cache)
param_bytes = sum(p.numel() * p.element_size() for p in char_model.parameters())
print(f"cache: {bytes_per_token} bytes per token; {cache_bytes / 1e6:.2f} MB for {cached_out.size(1)} tokens "
      f"(the parameters take {param_bytes / 1e6:.2f} MB)")
print(f"for comparison, a 7B LLaMA-style model (32 layers, D = 4096, float16) needs "
      f"{2 * 32 * 4096 * 2 / 2**20:.2f} MiB per token: {2 * 32 * 4096 * 2 * 4096 / 2**30:.0f} GiB for 4096 tokens")

# %% [markdown]
# # GRADED: written_kvcache
# **What the KV cache saves, and what it costs.** Read the speed plot: how does the speed of each
# method change with $N$, what speedup do you measure at the largest $N$, and why (count the work
# per generated token in both cases, for the projections/MLP and for the attention scores)? What
# does the cache cost in memory, how does that grow with the context length, batch size and model
# size, and when is that cost the limiting factor? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# With the cache the speed is nearly flat, about 800 tokens per second whatever $N$, while recomputing
# falls steadily, from about 600 tokens/s at $N = 32$ to about 100 at $N = 512$: a speedup of about
# 8x at $N = 512$ (1.4x at $N = 32$), and it keeps growing with $N$. Without a
# cache, step $t$ runs the projections and MLPs on all $t$ tokens (about $12 D^2$ multiply-adds per
# token and layer) and computes $t^2$ attention scores, so generating $N$ tokens costs
# $O(N^2 D^2 + N^3 D)$ per layer; with the cache step $t$ processes one token ($12 D^2$) and $t$
# scores ($tD$), $O(N D^2 + N^2 D)$ in total: a factor of order $N$ less work. The measured speedup
# is much smaller than $N/2$ because this model is tiny: a cached step does only about 1.2 MFLOP,
# and its time (about 1 ms) is almost all Python and per-operator overhead, which the uncached
# version also pays. The price is memory: every layer stores a key and a value vector of width $D$
# for every token of every sequence, $2 \cdot n_\text{layers} \cdot D$ numbers per token (3 KB
# here, 1.6 MB for 513 tokens, already 64% of the weights), growing linearly with context length,
# batch size, depth and width. For a 7B LLaMA-style model in float16 that is 0.5 MiB per token, 2 GiB
# for one 4096-token sequence, so a batch of 32 such sequences needs 64 GiB of cache, far more
# than the 13 GiB of weights: in serving, the cache, not the parameters, limits batch size and
# context length, and reading it every step makes long-context decoding memory-bandwidth bound
# (hence multi-query/grouped-query attention, paged and quantised caches).
# END SOLUTION

# %% [markdown]
# ## 11. Experiment: an induction head forms
#
# An *induction head* (Olsson et al., "In-context learning and induction heads", 2022) implements
# "if the current token A appeared before, followed by B, predict B": it needs two attention layers.
# A *previous-token head* in layer 1 copies into each position the identity of the token before it;
# a head in layer 2 then looks for positions whose *previous* token equals the current token and
# copies the token found there. Large language models use this mechanism for in-context copying.
#
# `induction_task` makes sequences of random distinct tokens followed by a repeat of their first
# half. In the second half every next token is predictable. But beware: when all sequences have
# the same length $T$, the answer always sits at the same *relative* offset, $h - 1$ positions back
# ($h = \lceil T/2 \rceil$), and with RoPE a purely positional head can learn "look $h - 1$ back"
# without ever comparing tokens. We first train on a single length and test on others, then train
# on a mix of lengths, where only the content-based mechanism works.

# %%
require("gpt")  # stops here, before any figure, if a question it uses is not written yet
IND = dict(vocab=64, d_model=64, n_heads=2, n_layers=2, lr=3e-3, batch=64)
FIXED_STEPS = 20 if SMOKE else 300
MIXED_STEPS = 20 if SMOKE else 500
TRAIN_LENGTHS = [16, 20, 24, 28, 36, 40, 44]  # 32 and 48 are left out: tested, never trained on
EVAL_LENGTHS = [24, 32, 48]
ind_eval_sets = {n: induction_task(128, n, IND["vocab"], seed=10_000 + n) for n in EVAL_LENGTHS}


def induction_run(lengths, steps, desc):
    seed_everything(SEED)
    model = TinyGPT(IND["vocab"], IND["d_model"], IND["n_heads"], IND["n_layers"]).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=IND["lr"])
    length_gen = torch.Generator().manual_seed(SEED)

    def next_batch(step):
        n = lengths[int(torch.randint(len(lengths), (1,), generator=length_gen))]
        return induction_task(IND["batch"], n, IND["vocab"], seed=step)[0].to(device)

    def evaluate():
        return {f"acc_{n}": next_token_accuracy(model, x.to(device), y.to(device))
                for n, (x, y) in ind_eval_sets.items()}

    return model, fit(model, opt, next_batch, steps, desc, evaluate=evaluate, eval_every=25)


fixed_model, fixed_history = induction_run([32], FIXED_STEPS, "one length (32)")
mixed_model, mixed_history = induction_run(TRAIN_LENGTHS, MIXED_STEPS, "mixed lengths")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
for ax, history, title in [(axes[0], fixed_history, "trained on length 32 only"),
                           (axes[1], mixed_history, f"trained on lengths {TRAIN_LENGTHS}")]:
    for n in EVAL_LENGTHS:
        ax.plot(history["eval_step"], history[f"eval_acc_{n}"], marker=".", label=f"tested on length {n}")
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.legend()
axes[0].set_ylabel("accuracy on the repeated half")
plt.show()
for name, history in [("one length", fixed_history), ("mixed lengths", mixed_history)]:
    print(f"{name:<14}" + "  ".join(f"length {n}: {history[f'eval_acc_{n}'][-1]:.3f}" for n in EVAL_LENGTHS))

# %% [markdown]
# ### Looking inside: attention maps
#
# Our attention calls `softmax` by name, so we can record every attention weight matrix by
# temporarily replacing `softmax` with a version that stores its output (the same trick the tests
# use to substitute trusted helpers). For one sequence of length 40 ($h = 20$) we draw every head of
# both layers of the mixed-length model and score each head: the mean weight on the previous token
# ($j = i - 1$) and on the token after the previous occurrence of the current token
# ($j = i - h + 1$, for queries in the second half).

# %%
@contextlib.contextmanager
def recording_softmax():
    """Within the block, every call of softmax appends its output to the yielded list."""
    records, original = [], globals()["softmax"]

    def recorder(x, dim=-1):
        out = original(x, dim=dim)
        records.append(out.detach().cpu())
        return out

    globals()["softmax"] = recorder
    try:
        yield records
    finally:
        globals()["softmax"] = original


T_MAP = 40
h_map = (T_MAP + 1) // 2
x_map, _ = induction_task(1, T_MAP, IND["vocab"], seed=123)
with torch.no_grad(), recording_softmax() as attn_maps:
    mixed_model(x_map.to(device))
queries = torch.arange(h_map, T_MAP)  # second half
fig, axes = plt.subplots(IND["n_layers"], IND["n_heads"], figsize=(3.2 * IND["n_heads"], 3.2 * IND["n_layers"]))
for layer, weights in enumerate(attn_maps):  # weights: (1, nh, T, T)
    for head in range(IND["n_heads"]):
        w = weights[0, head]
        prev_score = w[torch.arange(1, T_MAP), torch.arange(0, T_MAP - 1)].mean().item()
        ind_score = w[queries, queries - h_map + 1].mean().item()
        ax = axes[layer, head]
        ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"layer {layer + 1} head {head}\nprev {prev_score:.2f}  induction {ind_score:.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# In the first layer, look for a head whose weight sits on the diagonal just below the main one:
# a previous-token head (in our run, layer 1 head 0 puts about 0.7 of its weight there). In the
# second layer, an induction head shows a second stripe in the lower half, $h - 1$ positions left
# of the diagonal: each query in the repeat attends to the token that *followed* its previous
# occurrence, which is exactly the token to predict (in our run both heads of layer 2 put about 0.98
# of their weight there). The first half of a layer-2 map is diffuse: there is nothing to copy yet.
# The model trained on a single length has no reason to build this circuit, and its accuracy on
# other lengths shows that it did not.

# %% [markdown]
# ## Summary
#
# * Subtract the maximum before exponentiating: softmax and log-sum-exp are then stable for any input.
# * Attention is $\mathrm{softmax}(QK^\top/\sqrt{E} + M)V$; boolean masks mean "may attend" in
#   PyTorch's SDPA and the opposite in `nn.MultiheadAttention`; with a cache the causal mask must be
#   aligned to the lower-right corner.
# * RoPE rotates queries and keys by position, so scores depend only on relative positions, and
#   rotated keys can be cached as they are.
# * The KV cache turns each generation step from a pass over the whole sequence into a pass over
#   one token, at the cost of $2 \cdot n_\text{layers} \cdot D$ numbers per token of context.
# * On fixed-length data a model can solve an "in-context" task with a positional shortcut; mixing
#   lengths forces a real induction head (previous-token head + content-matching head).

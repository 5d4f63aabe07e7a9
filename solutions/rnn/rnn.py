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
# # Recurrent networks: RNN, LSTM and GRU cells, truncated BPTT and a character model
#
# A recurrent network reads a sequence one element at a time and carries a *state* from each step
# to the next. In this assignment you unroll the three classic cells from their equations, build a
# sequence layer, measure why plain RNNs forget (vanishing and exploding gradients), write gradient
# clipping, and train a character-level LSTM on Python's own standard-library sources with
# truncated backpropagation through time.
#
# **Learning goals.** By the end you can
#
# 1. write the RNN, LSTM and GRU cells in PyTorch's weight layout, so that `nn.RNNCell`,
#    `nn.LSTMCell` and `nn.GRUCell` are exact oracles for your code;
# 2. unroll a cell into a layer with `nn.LSTM`'s semantics and time it against cuDNN-free `nn.LSTM`;
# 3. measure how the gradient reaching step $t$ shrinks or grows with the distance in time, for a
#    plain RNN and for an LSTM, and explain the difference from the equations;
# 4. implement global-norm gradient clipping and see its effect on a training curve;
# 5. train a character model with truncated BPTT (carry the state, detach it) and sample from it
#    at several temperatures.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after. Only graded cells and cells made only of `import` statements run when grading, so a
# graded cell must not rely on variables defined in experiment cells. **Call the other graded
# functions by name** (`lstm_cell` inside `lstm_layer`, `clip_grad_norm` inside `train_tbptt`): the
# tests swap in a trusted version so that a bug costs points only in its own question.
#
# **Time.** The whole notebook ran in 23 s on a recent 2-core CPU, one thread (allow a minute or two
# on an older laptop; most of it trains the character model); a GPU is not needed and helps little at these sizes (the Python
# loop of your layer launches many tiny kernels). Set the environment
# variable `COURSE_SMOKE=1` to shrink every experiment to a few seconds.
#
# **Notation.**
#
# | letter | meaning |
# | --- | --- |
# | `N` | batch size |
# | `L` | sequence length (time steps) |
# | `I` | input size (features of `x_t`) |
# | `H` | hidden size |
# | `V` | vocabulary size (characters) |
#
# Weights follow PyTorch: `W_ih` is `(G*H, I)`, `W_hh` is `(G*H, H)`, and the biases `b_ih`, `b_hh`
# are `(G*H,)`, where `G` is the number of gate blocks stacked by rows (1 for the RNN, 4 for the
# LSTM, 3 for the GRU). A linear map is $x W_{ih}^\top + b_{ih}$.

# %%
import math
import os
import time

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from autograder import check
from shared import describe_device, get_device, seed_everything
from shared.data import CharTokenizer, stdlib_text
from shared.plot import plot_curves

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
SEED = 0
seed_everything(SEED)
if device.type == "cpu":
    # These models are small: each step is many tiny operations, where a second thread mostly adds
    # synchronisation (and on a busy shared machine, threads waiting for each other can make it 10x slower).
    torch.set_num_threads(1)
print(f"device={describe_device(device)}  smoke={SMOKE}  threads={torch.get_num_threads()}")

# %% [markdown]
# ## 1. The plain RNN cell
#
# An Elman RNN keeps one vector $h_t \in \mathbb{R}^H$ and updates it from the new input $x_t$:
#
# $$
# h_t = \tanh\big(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}\big).
# $$
#
# PyTorch keeps two bias vectors, $b_{ih}$ and $b_{hh}$; mathematically only their sum matters,
# but we keep both so that `nn.RNNCell`'s parameters load directly. Everything is batched: `x` is
# `(N, I)`, `h` is `(N, H)`. Do not use `nn.RNNCell`, `torch.rnn_tanh_cell` or their relatives.

# %%
# GRADED: rnn_cell
def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """One step of a tanh RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    x: (N, I), h: (N, H), W_ih: (H, I), W_hh: (H, H), b_ih, b_hh: (H,) -> h': (N, H)
    """
    # BEGIN SOLUTION
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)  # (N, H)
    # END SOLUTION


# %%
check("rnn_cell")

# %% [markdown]
# ## 2. The LSTM cell
#
# The LSTM (Hochreiter and Schmidhuber, 1997; the form with a forget gate, Gers et al., 2000) adds a
# *cell state* $c_t$ that is updated additively, guarded by three gates in $(0, 1)$:
#
# $$
# \begin{aligned}
# \begin{bmatrix} \tilde i \\ \tilde f \\ \tilde g \\ \tilde o \end{bmatrix}
#   &= x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}
#   \quad\text{(each block } (N, H)\text{, in this order)} \\
# i &= \sigma(\tilde i), \quad f = \sigma(\tilde f), \quad g = \tanh(\tilde g), \quad o = \sigma(\tilde o) \\
# c_t &= f \odot c_{t-1} + i \odot g \\
# h_t &= o \odot \tanh(c_t).
# \end{aligned}
# $$
#
# The rows of `W_ih` (shape `(4H, I)`) are the four blocks `[i | f | g | o]`, PyTorch's order.
# The input gate $i$ decides what to write, the forget gate $f$ what to keep, the output gate $o$
# what to show. Because $\partial c_t / \partial c_{t-1} = f$ (elementwise, along the direct path),
# the cell can keep information, and gradient, for as long as $f \approx 1$.
# Do not use `nn.LSTMCell` or `torch.lstm_cell`.

# %%
# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step with PyTorch's gate order [i | f | g | o].

    x: (N, I); state = (h, c), each (N, H); W_ih: (4H, I), W_hh: (4H, H), b_ih, b_hh: (4H,)
    returns (h', c'), each (N, H)
    """
    h, c = state
    # BEGIN SOLUTION
    H = h.shape[-1]
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (N, 4H)
    i = torch.sigmoid(gates[:, 0 * H : 1 * H])  # input gate
    f = torch.sigmoid(gates[:, 1 * H : 2 * H])  # forget gate
    g = torch.tanh(gates[:, 2 * H : 3 * H])  # candidate
    o = torch.sigmoid(gates[:, 3 * H : 4 * H])  # output gate
    c_new = f * c + i * g  # (N, H)
    h_new = o * torch.tanh(c_new)  # (N, H)
    return h_new, c_new
    # END SOLUTION


# %%
check("lstm_cell")

# %% [markdown]
# ## 3. The GRU cell
#
# The GRU (Cho et al., 2014) merges the cell and hidden states and uses two gates, a reset gate $r$
# and an update gate $z$ (row blocks `[r | z | n]`):
#
# $$
# \begin{aligned}
# r &= \sigma(x W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr}), \qquad
# z = \sigma(x W_{iz}^\top + b_{iz} + h W_{hz}^\top + b_{hz}) \\
# n &= \tanh\big(x W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn})\big) \\
# h' &= (1 - z) \odot n + z \odot h .
# \end{aligned}
# $$
#
# Two details matter for matching `nn.GRUCell`: the reset gate multiplies the *whole* hidden
# projection **including its bias** $b_{hn}$ (the original paper puts $r$ before the matrix:
# $W_{hn}(r \odot h)$, a different function), and $z$ weighs the *old* state: $z = 1$ keeps $h$.
# Do not use `nn.GRUCell` or `torch.gru_cell`.

# %%
# GRADED: gru_cell
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step with PyTorch's gate order [r | z | n]; r multiplies (h W_hn^T + b_hn).

    x: (N, I), h: (N, H), W_ih: (3H, I), W_hh: (3H, H), b_ih, b_hh: (3H,) -> h': (N, H)
    """
    # BEGIN SOLUTION
    H = h.shape[-1]
    gi = x @ W_ih.T + b_ih  # (N, 3H): input projections
    gh = h @ W_hh.T + b_hh  # (N, 3H): hidden projections, biases included
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])  # reset gate
    z = torch.sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])  # update gate
    n = torch.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])  # candidate
    return (1 - z) * n + z * h  # (N, H)
    # END SOLUTION


# %%
check("gru_cell")

# %% [markdown]
# ## 4. Unrolling: an LSTM layer
#
# A layer applies the same cell at every time step, feeding each step's state to the next:
#
# $$
# (h_t, c_t) = \mathrm{cell}(x_t, (h_{t-1}, c_{t-1})), \qquad t = 1, \dots, L, \qquad
# \text{output} = [h_1, \dots, h_L].
# $$
#
# This is `nn.LSTM` with one layer and `batch_first=False`: `x` is `(L, N, I)`, the output is
# `(L, N, H)` and the final state is $(h_L, c_L)$. A missing state (`None`) means zeros. (Unlike
# `nn.LSTM`, our states have no leading `num_layers` dimension: they are `(N, H)`.) Call your
# `lstm_cell` **by name**; do not use `nn.LSTM` or `torch.lstm`.

# %%
# GRADED: lstm_layer
def lstm_layer(x, state, W_ih, W_hh, b_ih, b_hh):
    """Run lstm_cell over the time axis: nn.LSTM (one layer, batch_first=False) semantics.

    x: (L, N, I); state: None (zeros) or (h0, c0), each (N, H); weights as in lstm_cell
    returns (output, (h_n, c_n)): output (L, N, H) stacks h_1 .. h_L; h_n, c_n: (N, H)
    """
    # BEGIN SOLUTION
    L, N, _ = x.shape
    H = W_hh.shape[1]
    if state is None:
        h = x.new_zeros(N, H)
        c = x.new_zeros(N, H)
    else:
        h, c = state
    outputs = []
    for t in range(L):
        h, c = lstm_cell(x[t], (h, c), W_ih, W_hh, b_ih, b_hh)  # each (N, H)
        outputs.append(h)
    return torch.stack(outputs), (h, c)  # (L, N, H)
    # END SOLUTION


# %%
check("lstm_layer")

# %% [markdown]
# ### Experiment: a Python loop against `nn.LSTM`
#
# Your layer launches a handful of small operations per time step from Python. `nn.LSTM` runs the
# same recurrence in C++ (and on a GPU with cuDNN, which also fuses the gates). We time both, forward
# and backward, on the same weights, and check that they agree.

# %%
def time_it(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


H_T, I_T, N_T = (32, 16, 8) if SMOKE else (128, 64, 32)
lengths = [8, 32] if SMOKE else [16, 64, 256]
torch_lstm = nn.LSTM(I_T, H_T).to(device)
weights = [torch_lstm.weight_ih_l0, torch_lstm.weight_hh_l0, torch_lstm.bias_ih_l0, torch_lstm.bias_hh_l0]
ours_ms, torch_ms = [], []
for L in lengths:
    x = torch.randn(L, N_T, I_T, device=device)
    out_ours, _ = lstm_layer(x, None, *weights)
    out_torch, _ = torch_lstm(x)
    assert torch.allclose(out_ours, out_torch, atol=1e-5), "your layer and nn.LSTM disagree"
    ours_ms.append(1e3 * time_it(lambda: lstm_layer(x, None, *weights)[0].sum().backward()))
    torch_ms.append(1e3 * time_it(lambda: torch_lstm(x)[0].sum().backward()))
    print(f"L = {L:4d}: yours {ours_ms[-1]:7.1f} ms, nn.LSTM {torch_ms[-1]:7.1f} ms "
          f"(x{ours_ms[-1] / torch_ms[-1]:.1f})")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(lengths, ours_ms, "o-", label="lstm_layer (Python loop)")
ax.plot(lengths, torch_ms, "s-", label="nn.LSTM")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("sequence length L")
ax.set_ylabel("forward + backward (ms)")
ax.set_title(f"N={N_T}, H={H_T}, {device}")
ax.legend()
plt.show()

# %% [markdown]
# ## 5. Experiment: vanishing and exploding gradients
#
# Backpropagation through time multiplies one Jacobian per step. For the plain RNN,
#
# $$
# \frac{\partial h_T}{\partial h_t} = \prod_{k=t+1}^{T} \operatorname{diag}\big(1 - h_k^2\big)\, W_{hh},
# $$
#
# so its size behaves roughly like $\|W_{hh}\|^{T-t}$ (times the tanh derivatives, at most 1):
# it shrinks geometrically when the largest singular value of $W_{hh}$ is below 1 and can grow
# when it is above. The LSTM's cell state has a direct path with Jacobian $\operatorname{diag}(f)$:
# with forget gates near 1 the gradient survives many steps.
#
# We measure $\|\partial (u^\top h_T) / \partial x_t\|$ (a random direction $u$) for every $t$,
# with random weights, and plot it against the distance $T - t$.

# %%
def rnn_layer(x, W_ih, W_hh, b_ih, b_hh):
    """Unroll rnn_cell over x: (L, N, I) -> (L, N, H)."""
    h = x.new_zeros(x.shape[1], W_hh.shape[0])
    outs = []
    for t in range(x.shape[0]):
        h = rnn_cell(x[t], h, W_ih, W_hh, b_ih, b_hh)
        outs.append(h)
    return torch.stack(outs)


def gradient_by_distance(run, L, I, H):
    """||d(u . h_T) / d x_t|| for t = 0..L-1, averaged over a batch; returned by distance T - t."""
    x = torch.randn(L, 16, I).requires_grad_(True)
    out = run(x)  # (L, N, H)
    u = torch.randn(H)
    (out[-1] @ u).sum().backward()
    norms = x.grad.norm(dim=-1).mean(dim=-1)  # (L,)
    return norms.flip(0)  # index = distance T - t


L_G, I_G, H_G = (20, 8, 16) if SMOKE else (80, 16, 64)
gen = torch.Generator().manual_seed(SEED)


def rnn_weights(scale):
    W_ih = torch.randn(H_G, I_G, generator=gen) / math.sqrt(I_G)
    W_hh = scale * torch.linalg.qr(torch.randn(H_G, H_G, generator=gen))[0]  # all singular values = scale
    return W_ih, W_hh, torch.zeros(H_G), torch.zeros(H_G)


def lstm_weights(forget_bias):
    W_ih = torch.randn(4 * H_G, I_G, generator=gen) / math.sqrt(I_G)
    W_hh = torch.randn(4 * H_G, H_G, generator=gen) / math.sqrt(H_G)
    b = torch.zeros(4 * H_G)
    b[H_G : 2 * H_G] = forget_bias  # the forget-gate block
    return W_ih, W_hh, b, torch.zeros(4 * H_G)


curves = {}
for scale in [0.8, 1.0, 1.5]:
    w = rnn_weights(scale)
    curves[f"RNN, singular values {scale}"] = gradient_by_distance(lambda x, w=w: rnn_layer(x, *w), L_G, I_G, H_G)
for fb in [0.0, 3.0]:
    w = lstm_weights(fb)
    curves[f"LSTM, forget bias {fb:g}"] = gradient_by_distance(
        lambda x, w=w: lstm_layer(x, None, *w)[0], L_G, I_G, H_G)

fig, ax = plt.subplots(figsize=(6.5, 4))
for label, norms in curves.items():
    ax.semilogy(norms.detach(), label=label)
ax.set_xlabel("distance in time T - t")
ax.set_ylabel(r"$\| \partial (u^\top h_T) / \partial x_t \|$")
ax.set_title("how much gradient reaches an earlier input")
ax.legend(fontsize=8)
plt.show()
for label, norms in curves.items():
    print(f"{label:<28} distance 1: {norms[1]:.2e}   distance {L_G - 1}: {norms[-1]:.2e}")

# %% [markdown]
# # GRADED: written_gradients
# **Vanishing and exploding gradients.** Read the plot: how fast does the gradient decay with the
# distance for the plain RNN with singular values 0.8, 1.0 and 1.5, and for the LSTM with forget
# bias 0 and 3? Explain each behaviour from the Jacobian products above (why does the tanh keep
# the RNN with singular values 1.5 from exploding for long, and what does the forget bias change
# for the LSTM?). What does this mean for learning a dependency 50 steps back? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# For the plain RNN the gradient decays geometrically: with singular values 0.8 it falls by about
# a factor 0.8 per step times the tanh derivative (below 1), from about 2 at distance 1 to 1e-22 at
# distance 79 in our run; with 1.0 the decay comes only from the tanh derivatives and is slower
# (about 1e-15 at distance 79). With 1.5 the recurrent weights would amplify the gradient, but they
# also push the units into saturation, where $1 - h^2 \approx 0$, so the product of Jacobians still
# shrinks, only much more slowly (about 1e-4 at distance 79): exploding gradients appear only while
# the units are not saturated, typically as rare huge spikes during training. The LSTM's cell path
# multiplies by the forget gates $f = \sigma(\tilde f)$: with bias 0, $f \approx 0.5$ and the gradient
# vanishes as fast as the RNN's (1e-16); with bias 3, $f \approx 0.95$ and in our run the gradient at
# distance 79 is as large as at distance 1. A dependency 50 steps back receives essentially no
# gradient through a plain RNN, so it cannot be learned; an LSTM whose forget gates stay near 1 (hence
# the common forget-bias initialisation of 1 or more) can learn it.
# END SOLUTION

# %% [markdown]
# ## 6. Gradient clipping
#
# Exploding gradients are rare but violent: one huge step can throw a model far away. Clipping by
# the **global norm** (Pascanu et al., 2013) rescales all gradients together when their joint norm
# exceeds a threshold, keeping the direction:
#
# $$
# \|g\| = \sqrt{\sum_{p} \|g_p\|_2^2}, \qquad
# g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\Big).
# $$
#
# This is `torch.nn.utils.clip_grad_norm_`: parameters whose `.grad` is `None` are skipped, the
# scaling happens **in place** on `.grad`, only when the factor is below 1 (small gradients are never
# scaled up), and the function returns the total norm *before* clipping as a tensor (a 0-dim tensor
# in the gradients' dtype; `torch.tensor(0.0)` when no parameter has a gradient). Clipping each
# parameter separately is a different thing (it changes the direction). Do not use
# `torch.nn.utils.clip_grad_norm_`, `clip_grad_value_` or `get_total_norm`.

# %%
# GRADED: clip_grad_norm
def clip_grad_norm(parameters, max_norm):
    """Scale all gradients in place so that their joint L2 norm is at most max_norm.

    parameters: a list of tensors (those whose .grad is None are skipped); max_norm: float.
    Returns the total norm before clipping, a 0-dim tensor.
    """
    # BEGIN SOLUTION
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([g.detach().norm(2) for g in grads])  # (P,): one norm per parameter
    total = norms.norm(2)  # sqrt of the sum of squares
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for g in grads:
            g.mul_(factor)  # in place: the optimizer reads .grad
    return total
    # END SOLUTION


# %%
check("clip_grad_norm")

# %% [markdown]
# ## 7. A character-level LSTM
#
# A character model reads a sequence of character ids and predicts, at every position, the next
# character: an embedding, an LSTM, and a linear head to `V` logits. The constructor is given
# (keep the attribute names: the tests load weights through them); write `forward`, which returns
# the logits *and* the LSTM's final state, so that a caller can continue the sequence later, and
# `sample`, which generates text:
#
# * feed the prefix once (`model(prefix)`), then feed only the newest token together with the
#   state the model returned: never recompute the whole sequence;
# * at each step take the last position's logits; `temperature == 0` picks the argmax; otherwise
#   sample from `softmax(logits / temperature)` with
#   `torch.multinomial(probs, num_samples=1, generator=generator)`;
# * run under `torch.no_grad()` and leave the model's train/eval mode alone.

# %%
# GRADED: char_model
class CharLSTM(nn.Module):
    """Embedding -> nn.LSTM (batch_first) -> Linear head to vocabulary logits."""

    def __init__(self, vocab_size, embed_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        """idx: (N, L) long; state: None or (h, c), each (num_layers, N, H).

        Returns (logits, state): logits (N, L, V) and the LSTM's final (h, c).
        """
        # BEGIN SOLUTION
        x = self.embed(idx)  # (N, L, E)
        out, state = self.lstm(x, state)  # (N, L, H); (h, c) each (num_layers, N, H)
        return self.head(out), state  # (N, L, V)
        # END SOLUTION


def sample(model, prefix, n, temperature=1.0, generator=None):
    """Append n sampled tokens to prefix (N, P), P >= 1; returns (N, P + n).

    The prefix is fed once, then one token at a time with the carried state.
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        logits, state = model(prefix)  # (N, P, V)
        tokens = [prefix]
        for step in range(n):
            last = logits[:, -1, :]  # (N, V)
            if temperature == 0:
                nxt = last.argmax(dim=-1, keepdim=True)  # (N, 1)
            else:
                probs = torch.softmax(last / temperature, dim=-1)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)  # (N, 1)
            tokens.append(nxt)
            if step + 1 < n:
                logits, state = model(nxt, state)  # only the newest token, with the state
    return torch.cat(tokens, dim=1)
    # END SOLUTION


# %%
check("char_model")

# %% [markdown]
# ## 8. Truncated backpropagation through time
#
# A long text cannot be backpropagated through in one piece. Truncated BPTT cuts it into chunks of
# `seq_len` characters, and
#
# * **carries** the LSTM state from one chunk to the next, so that the forward pass still sees the
#   whole past;
# * **detaches** it between chunks, so that backpropagation stops at the chunk boundary (otherwise
#   the graph, and the cost of each backward, grows with the whole history; in PyTorch the second
#   backward through a freed graph is an error).
#
# The data layout is the classic one of PyTorch's word-language-model example. The stream `data`
# (a 1-D long tensor of length `T`) is cut into `batch_size` contiguous streams, one per row:
# `n = T // batch_size`, `streams = data[: n * batch_size].view(batch_size, n)`. Step after step the
# model reads consecutive chunks of every row: inputs `streams[:, pos : pos + seq_len]`, targets
# `streams[:, pos + 1 : pos + seq_len + 1]`, then `pos += seq_len`. A **pass** over the data starts
# with `state = None` at `pos = 0`, or, when a `generator` is given, at a random offset
# `pos = int(torch.randint(seq_len, (1,), generator=generator))` (one draw per pass, so that chunk
# boundaries move between passes); when the next chunk would not fit
# (`pos + seq_len + 1 > n`), a new pass starts. Each step:
#
# ```
# logits, state = model(inputs, state)
# loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))   # mean over N * seq_len
# optimizer.zero_grad(); loss.backward()
# clip_grad_norm(list(model.parameters()), clip)          # your function, by name; skip if clip is None
# optimizer.step()
# state = tuple(s.detach() for s in state)
# ```
#
# with one `torch.optim.Adam(model.parameters(), lr=lr)` created at the start. Return the list of
# the `steps` losses (Python floats). Take the device from the model's parameters.

# %%
# GRADED: bptt
def train_tbptt(model, data, seq_len, batch_size, steps, lr, clip, generator=None):
    """Train model on the token stream data with truncated BPTT; returns the `steps` losses (Python floats).

    data: (T,) long token ids; model(inputs (B, seq_len), state) -> (logits (B, seq_len, V), state),
    state None or a tuple of tensors; B = batch_size. clip: max_norm for clip_grad_norm, or None.
    generator: if given, the random start offset of each pass is drawn from it.
    """
    # BEGIN SOLUTION
    device = next(model.parameters()).device
    n = data.numel() // batch_size
    streams = data[: n * batch_size].view(batch_size, n).to(device)  # (batch_size, n): one stream per row
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    params = list(model.parameters())
    losses, state, pos = [], None, None
    for _ in range(steps):
        if pos is None or pos + seq_len + 1 > n:  # a new pass over the data
            state = None
            pos = 0 if generator is None else int(torch.randint(seq_len, (1,), generator=generator))
        inputs = streams[:, pos : pos + seq_len]  # (B, seq_len)
        targets = streams[:, pos + 1 : pos + seq_len + 1]  # (B, seq_len): the next characters
        logits, state = model(inputs, state)  # (B, seq_len, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            clip_grad_norm(params, clip)
        optimizer.step()
        state = tuple(s.detach() for s in state)  # carried, but backpropagation stops here
        losses.append(loss.item())
        pos += seq_len
    return losses
    # END SOLUTION


# %%
check("bptt")

# %% [markdown]
# ## 9. Experiment: a character LSTM on Python's standard library
#
# Our corpus is Python source code from the standard library (offline, identical on every machine
# with the same Python). We train for a few passes with truncated BPTT, tracking the validation loss
# after each round, then sample at several temperatures. `train_tbptt` is called once per round of
# steps (each call starts a fresh Adam, a small price for a progress bar and validation points).

# %%
text = stdlib_text(60_000 if SMOKE else 400_000)
tokenizer = CharTokenizer(text)
data = tokenizer.encode(text)
split = int(0.9 * len(data))
train_data, val_data = data[:split], data[split:]
print(f"{len(text):,} characters, vocabulary of {tokenizer.vocab_size}")

CHAR = dict(embed_dim=32, hidden_size=128, seq_len=64, batch=32, lr=4e-3, clip=1.0, rounds=10, steps=100)
if SMOKE:
    CHAR.update(hidden_size=32, seq_len=16, rounds=2, steps=10)


@torch.no_grad()
def val_loss(model, data, seq_len=128, n_streams=16):
    """Mean next-character loss on data, read as n_streams streams with the state carried."""
    n = data.numel() // n_streams
    streams = data[: n * n_streams].view(n_streams, n).to(device)
    total, count, state = 0.0, 0, None
    for pos in range(0, n - 1, seq_len):
        x, y = streams[:, pos : pos + seq_len], streams[:, pos + 1 : pos + seq_len + 1]
        x = x[:, : y.shape[1]]
        logits, state = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    return total / count


def fit(model, clip, lr, rounds, steps, desc):
    history = {"train_loss": [], "val_step": [], "val_loss": []}
    gen = torch.Generator().manual_seed(SEED)
    for r in (bar := tqdm(range(rounds), desc=desc)):
        history["train_loss"] += train_tbptt(model, train_data, CHAR["seq_len"], CHAR["batch"], steps, lr, clip,
                                             generator=gen)
        history["val_step"].append((r + 1) * steps)
        history["val_loss"].append(val_loss(model, val_data))
        bar.set_postfix(val=f"{history['val_loss'][-1]:.3f}")
    return history


seed_everything(SEED)
char_model = CharLSTM(tokenizer.vocab_size, CHAR["embed_dim"], CHAR["hidden_size"]).to(device)
print(f"CharLSTM: {sum(p.numel() for p in char_model.parameters()):,} parameters")
t0 = time.perf_counter()
char_history = fit(char_model, CHAR["clip"], CHAR["lr"], CHAR["rounds"], CHAR["steps"], "char LSTM")
print(f"trained {CHAR['rounds'] * CHAR['steps']} steps in {time.perf_counter() - t0:.0f} s; "
      f"validation loss {char_history['val_loss'][-1]:.3f} nats/char")

ax = plot_curves({"train (per step)": {"train_loss": char_history["train_loss"]}}, smooth=20,
                 title="character LSTM on stdlib sources")
ax.plot(char_history["val_step"], char_history["val_loss"], "o-", label="validation")
ax.axhline(math.log(tokenizer.vocab_size), color="grey", ls="--", lw=0.8, label="uniform guess")
ax.set_ylabel("loss (nats per character)")
ax.legend()
plt.show()

# %% [markdown]
# Samples from the same prompt at several temperatures: 0 (greedy) tends to loop, 0.5 is
# conservative, 1.0 samples the model's own distribution, 1.5 drifts into character soup.

# %%
prompt = tokenizer.encode("    def ").unsqueeze(0).to(device)  # (1, 8)
n_sample = 60 if SMOKE else 300
for temperature in [0.0, 0.5, 1.0, 1.5]:
    sample_gen = torch.Generator(device=device).manual_seed(SEED)
    out = sample(char_model, prompt, n_sample, temperature=temperature, generator=sample_gen)
    print(f"----- temperature {temperature} -----")
    print(tokenizer.decode(out[0]))

# %% [markdown]
# ## 10. Experiment: what clipping does to a training curve
#
# We train the same small model from the same initial weights, with a deliberately large learning
# rate, once without clipping and once clipping the global norm to 0.5, and record the gradient norm
# (which `clip_grad_norm` returns) along the way.

# %%
CLIP = dict(hidden_size=128, lr=2e-2, steps=250)
if SMOKE:
    CLIP.update(hidden_size=32, steps=20)
clip_runs = {}
for clip in [None, 0.5]:
    seed_everything(SEED)
    model = CharLSTM(tokenizer.vocab_size, 32, CLIP["hidden_size"]).to(device)
    t0 = time.perf_counter()
    losses = train_tbptt(model, train_data, CHAR["seq_len"], CHAR["batch"], CLIP["steps"], CLIP["lr"], clip,
                         generator=torch.Generator().manual_seed(SEED))
    clip_runs["no clipping" if clip is None else f"clip at {clip}"] = {"train_loss": losses}
    print(f"clip={clip}: final loss {sum(losses[-20:]) / 20:.3f}, validation {val_loss(model, val_data):.3f} "
          f"({time.perf_counter() - t0:.0f} s)")
ax = plot_curves(clip_runs, smooth=10, title=f"Adam lr={CLIP['lr']}, with and without clipping")
ax.set_ylabel("training loss")
plt.show()

# %% [markdown]
# # GRADED: written_clipping
# **Clipping.** Compare the two curves. Where do they differ (early, late, in spikes)? Why does
# clipping the *global* norm keep the update direction while clipping each parameter separately
# does not, and why does Adam, which already normalises each coordinate, still benefit from
# clipping in recurrent networks? (3 to 5 sentences.)
#
# BEGIN SOLUTION
# In our run the two curves are close (final training loss 1.47 without clipping, 1.46 with; validation
# 2.16 against 2.14): most of the time the global norm is below 0.5 or only slightly above, so clipping
# changes little, and the visible differences are the occasional spikes early in training, which the
# clipped run takes with smaller steps and recovers from faster. Scaling every gradient by the same
# factor multiplies the whole gradient vector by a positive number, so its direction is unchanged;
# clipping each parameter separately shrinks some blocks more than others and turns the update
# towards a different direction. Adam divides by a running average of squared gradients, which reacts
# slowly: a sudden spike (from the recurrent Jacobian products) enters the first moment at full size
# before the second moment catches up, and then inflates the second moment for many steps, shrinking
# the following updates; clipping bounds the spike before it reaches the optimizer's state. With a
# plain SGD optimizer or a vanilla RNN the difference is far larger.
# END SOLUTION

# %% [markdown]
# # GRADED: written_tbptt
# **Truncated BPTT.** Explain what carrying the state and detaching it each do: which
# dependencies can the model *use* at prediction time, and which can it *learn* through the
# gradient, when the chunks have length `seq_len`? What goes wrong if you carry the state but do
# not detach it, and if you detach it but do not carry it? (3 to 5 sentences.)
#
# BEGIN SOLUTION
# Carrying the state means the forward pass of each chunk starts from the state at the end of the
# previous chunk, so the model can use information from arbitrarily far back, as it does at
# prediction time when it reads a whole file. Detaching cuts the graph at the chunk boundary, so
# gradients flow at most `seq_len` steps back: the model learns to store and use information
# through the gradient only within a chunk, and relies on those mechanisms generalising to longer
# spans (an LSTM's memory does so well when it learns to hold it). Carrying without detaching makes
# every backward pass go through all earlier chunks: the cost per step grows with the history and
# in PyTorch the second backward fails because the earlier graph has been freed (or, with
# `retain_graph=True`, because the optimizer changed the weights it saved). Detaching without
# carrying resets the state to zero at every chunk: the model never sees more than `seq_len`
# characters of context while training, cannot predict anything that depends on earlier text,
# and its training loss stays higher.
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * RNN, LSTM and GRU cells are a few matrix products and pointwise gates; PyTorch stacks the gates
#   by rows (`[i | f | g | o]`, `[r | z | n]`) and keeps two biases, and the GRU's reset gate
#   multiplies the hidden projection *with* its bias.
# * Gradients through a plain RNN shrink or grow geometrically with the distance in time; the LSTM's
#   additive cell path with forget gates near 1 keeps them alive.
# * Global-norm clipping rescales all gradients together, only downwards, and keeps the direction.
# * Truncated BPTT carries the state across chunks (to use the past) and detaches it (to bound the
#   backward pass); a character LSTM trained that way writes plausible Python.

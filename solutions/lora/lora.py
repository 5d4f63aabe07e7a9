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
# # LoRA and prompt tuning: parameter-efficient fine-tuning of a frozen tiny GPT
#
# Fine-tuning every weight of a large model for every new task is expensive: one full copy of the
# model per task, and optimizer state twice its size during training. *Parameter-efficient*
# fine-tuning keeps the pre-trained weights **frozen** and trains a tiny number of new parameters
# instead. In this assignment you implement the two most common ways, LoRA (Hu et al., "LoRA:
# Low-Rank Adaptation of Large Language Models", arXiv:2106.09685) and prompt tuning (Lester et al.,
# "The Power of Scale for Parameter-Efficient Prompt Tuning", arXiv:2104.08691), and use them to
# adapt a small pre-trained character-level GPT to a new text style.
#
# **Learning goals.** By the end you can
#
# 1. write the LoRA update $W_0 + \frac{\alpha}{r} BA$, apply it without forming the merged matrix,
#    and merge it into the weight for inference;
# 2. build a `LoRALinear` module (frozen base, trainable $A$ and $B$, dropout on the LoRA branch,
#    merge/unmerge) and inject it into a model by module name;
# 3. prepend trainable virtual tokens to a model's input embeddings (prompt tuning);
# 4. count what each method trains, run a rank sweep, and compare LoRA with prompt tuning.
#
# **The base model.** `shared.tinygpt` holds a tiny GPT (2 layers, width 64, about 0.1 M parameters)
# pre-trained on Python's standard-library sources by `scripts/train_lora_base.py`; its weights ship
# with the course utilities (`shared/weights/`). It must never change: every method here leaves it
# bit-for-bit as it was.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after. Only graded cells and cells made only of `import` statements run when grading, so a
# graded cell may use functions and classes of other graded cells and the imports below, not
# variables of experiment cells. **Call the other graded functions by name** (`LoRALinear` inside
# `inject_lora`, `inject_lora` inside `finetune`): the tests sometimes swap in a trusted version so
# that a bug costs points only in its own question.
#
# **Running time.** The whole notebook ran in 15 s on a recent 2-core CPU (allow a minute on an older
# laptop; a GPU is not needed). Set the environment variable `COURSE_SMOKE=1` to run every experiment at a tiny size
# (seconds).
#
# **Notation.** `in`, `out`: input and output features of a linear layer; `r`: LoRA rank;
# `B`: batch size (and, in equations, the LoRA matrix $B$: the context tells which); `L`: sequence
# length; `D`: model width; `n`: number of virtual prompt tokens; `V`: vocabulary size.

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
from shared.tinygpt import finetune_task, load_tinygpt

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
if device.type == "cpu":
    # This model is so small that a second thread mostly adds synchronisation (and on a busy
    # machine, waiting): one thread is as fast or faster for every experiment below.
    torch.set_num_threads(1)
SEED = 0
seed_everything(SEED)
print(f"device={describe_device(device)}  smoke={SMOKE}")

# %% [markdown]
# ## 0. The pre-trained base model
#
# `load_tinygpt()` returns the model (in eval mode) and its character tokenizer. Every linear map
# is an `nn.Linear` with a name: `blocks.<i>.attn.query`, `.key`, `.value`, `.out`,
# `blocks.<i>.mlp.up`, `.down`, and the output `head`. Its forward takes token ids `idx` `(B, L)`
# or input embeddings `embeds` `(B, L, D)` and an optional padding `attention_mask` `(B, L)` and
# returns next-token logits `(B, L, V)`.

# %%
base, tok = load_tinygpt(device=device)
print(f"CharGPT: {sum(p.numel() for p in base.parameters()):,} parameters, vocabulary of {tok.vocab_size}")
print([name for name, m in base.named_modules() if isinstance(m, nn.Linear)])
prompt_ids = tok.encode("def ").unsqueeze(0).to(device)
print(tok.decode(base.generate(prompt_ids, 120, temperature=0.7, generator=torch.Generator().manual_seed(SEED))[0]))

# %% [markdown]
# ## 1. The LoRA update and merging
#
# A linear layer computes $h = W_0 x + b$ with $W_0 \in \mathbb{R}^{\text{out}\times\text{in}}$.
# Full fine-tuning learns a dense update $\Delta W$ of the same size. LoRA's hypothesis is that the
# update needed for a new task has a **low intrinsic rank**, so it parametrises it as a product
#
# $$
# \Delta W = \frac{\alpha}{r}\, B A, \qquad A \in \mathbb{R}^{r \times \text{in}},\;
# B \in \mathbb{R}^{\text{out}\times r},\; r \ll \min(\text{in}, \text{out}),
# $$
#
# which has rank at most $r$ and only $r(\text{in} + \text{out})$ parameters instead of
# $\text{in}\cdot\text{out}$. The factor $\alpha / r$ (Hu et al., Section 4.1) keeps the size of the
# update roughly independent of $r$, so a learning rate tuned at one rank works at another.
# (rsLoRA, Kalajdzievski 2023, argues for $\alpha/\sqrt r$; we use $\alpha / r$ throughout.)
#
# For inference the update can be **merged** into the weight, $W = W_0 + \frac{\alpha}{r} BA$: the
# adapted layer then costs exactly what the original one did.
#
# Write `merge_lora(weight, A, B, alpha)` returning the merged weight as a **new** tensor (the inputs
# stay unchanged). Read $r$ from the shapes.

# %%
# GRADED: merge_lora
import torch


def merge_lora(weight, A, B, alpha):
    """The merged weight W0 + (alpha / r) B A, a new tensor; weight, A and B are not modified.

    weight: (out, in), A: (r, in), B: (out, r), alpha: float -> (out, in)
    """
    # BEGIN SOLUTION
    r = A.shape[0]
    return weight + (alpha / r) * (B @ A)  # (out, in)
    # END SOLUTION


# %%
check("merge_lora")

# %% [markdown]
# ## 2. Applying LoRA without merging
#
# During training we keep $W_0$ and the factors apart: the gradient must reach $A$ and $B$ only, and
# forming $BA$ (an out $\times$ in matrix) at every step would waste time and memory. Instead
#
# $$
# h = x W_0^\top + b + \frac{\alpha}{r}\,(x A^\top) B^\top ,
# $$
#
# first projecting $x$ down to $r$ dimensions, then back up: $O(r(\text{in} + \text{out}))$ extra
# work per input vector. `x` has any number of leading dimensions, `bias` may be `None`.
# **Do not form** `B @ A` (nor the merged matrix) here; the tests watch for it.

# %%
# GRADED: lora_linear
import torch


def lora_linear(x, weight, bias, A, B, alpha):
    """x W^T + bias + (alpha / r) (x A^T) B^T, without forming B A.

    x: (..., in), weight: (out, in), bias: (out,) or None, A: (r, in), B: (out, r) -> (..., out)
    """
    # BEGIN SOLUTION
    r = A.shape[0]
    out = x @ weight.T  # (..., out)
    if bias is not None:
        out = out + bias
    down = x @ A.T  # (..., r)
    return out + (alpha / r) * (down @ B.T)  # (..., out)
    # END SOLUTION


# %%
check("lora_linear")

# %%
gen = torch.Generator().manual_seed(SEED)
W0, bias0 = torch.randn(48, 64, generator=gen), torch.randn(48, generator=gen)
A0, B0 = torch.randn(4, 64, generator=gen), torch.randn(48, 4, generator=gen)
x0 = torch.randn(10, 64, generator=gen)
merged_out = x0 @ merge_lora(W0, A0, B0, alpha=8.0).T + bias0
print("unmerged equals merged:", torch.allclose(lora_linear(x0, W0, bias0, A0, B0, 8.0), merged_out, atol=1e-4))
print("rank of the update:", torch.linalg.matrix_rank(merge_lora(W0, A0, B0, 8.0) - W0).item(), "(r = 4)")

# %% [markdown]
# ## 3. A LoRA module
#
# `LoRALinear(base, r, alpha, dropout=0.0)` wraps an existing `nn.Linear`:
#
# * `self.base` is the wrapped layer, **frozen** (`requires_grad=False` on its weight and bias);
# * `self.lora_A` $(r, \text{in})$ is initialised like `nn.Linear` and peft do,
#   `nn.init.kaiming_uniform_(A, a=math.sqrt(5))` (uniform in $\pm 1/\sqrt{\text{in}}$), and
#   `self.lora_B` $(\text{out}, r)$ is **zeros**: at initialisation $\Delta W = 0$ and the wrapped
#   model computes exactly what the base model did, while the gradient of $B$ is not zero (that of $A$
#   is, since it is multiplied by $B = 0$), so training can start;
# * dropout (`nn.Dropout(dropout)`) is applied **to the input of the LoRA branch only**, never to the
#   base path: $h = W_0 x + b + \frac{\alpha}{r} B A\,\mathrm{dropout}(x)$;
# * `merge()` adds $\frac{\alpha}{r}BA$ into `base.weight` in place and `unmerge()` takes it out again;
#   a `merged` flag (False at first) makes both idempotent (merging twice merges once) and the
#   forward uses only the base layer while merged, so outputs are the same either way (in eval mode).
#
# Create `lora_A` and `lora_B` on the device and dtype of the base weight. You may call `merge_lora`.

# %%
# GRADED: lora_module
import math

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    """base(x) + (alpha / r) B A dropout(x), with base frozen; merge()/unmerge() fold the update in and out.

    base: nn.Linear(in, out); lora_A: (r, in) kaiming-uniform; lora_B: (out, r) zeros.
    forward: x (..., in) -> (..., out)
    """

    def __init__(self, base, r, alpha, dropout=0.0):
        super().__init__()
        # BEGIN SOLUTION
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha, self.scaling = r, alpha, alpha / r
        w = base.weight
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, device=w.device, dtype=w.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, device=w.device, dtype=w.dtype))
        self.dropout = nn.Dropout(dropout)
        self.merged = False
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        out = self.base(x)  # (..., out)
        if self.merged:
            return out
        return out + self.scaling * (self.dropout(x) @ self.lora_A.T @ self.lora_B.T)
        # END SOLUTION

    @torch.no_grad()
    def merge(self):
        # BEGIN SOLUTION
        if not self.merged:
            self.base.weight.copy_(merge_lora(self.base.weight, self.lora_A, self.lora_B, self.alpha))
            self.merged = True
        # END SOLUTION

    @torch.no_grad()
    def unmerge(self):
        # BEGIN SOLUTION
        if self.merged:
            self.base.weight.sub_(self.scaling * (self.lora_B @ self.lora_A))
            self.merged = False
        # END SOLUTION


# %%
check("lora_module")

# %% [markdown]
# ## 4. Injecting LoRA into a model
#
# Models are trees of modules with qualified names (`model.named_modules()`:
# `blocks.0.attn.query`, ...). Hu et al. adapt only the attention's query and value projections;
# later work (QLoRA) adapts every linear layer. `inject_lora(model, target_names, r, alpha, dropout)`
#
# * freezes **every** parameter of the model,
# * replaces, in place, every `nn.Linear` whose qualified name ends with one of `target_names`
#   (e.g. `"query"` matches `blocks.0.attn.query`; `"blocks.1.attn.value"` matches only that one) by
#   `LoRALinear(that_linear, r, alpha, dropout)` (call it by name),
# * returns the number of trainable parameters (elements) left in the model.
#
# Hint: replace a child with `setattr(parent, child_name, new_module)`; collect the matches first,
# changing a module tree while iterating over it is asking for trouble.

# %%
# GRADED: inject
import torch.nn as nn


def inject_lora(model, target_names, r, alpha, dropout=0.0):
    """Freeze model, wrap every nn.Linear whose qualified name ends with a target in LoRALinear.

    Returns the number of trainable parameter elements after injection.
    """
    # BEGIN SOLUTION
    for p in model.parameters():
        p.requires_grad_(False)
    matches = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and any(name.endswith(t) for t in target_names)
    ]
    for name, module in matches:
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child_name, LoRALinear(module, r, alpha, dropout))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
    # END SOLUTION


# %%
check("inject")

# %% [markdown]
# ## 5. Prompt tuning
#
# Prompt tuning trains no weight at all: it learns $n$ *virtual token* embeddings
# $P \in \mathbb{R}^{n \times D}$ that are prepended to the embeddings of every input sequence. The
# frozen model then reads $[P; E(x)]$, a sequence of length $n + L$, and only $P$ receives gradient.
#
# The bookkeeping around it matters: the attention mask must mark the $n$ virtual tokens as real
# (ones), and the labels must ignore them (`-100`, the `ignore_index` of `F.cross_entropy`), so that
# the loss is still computed on the original positions only.
#
# Write `prepend_prompt(embeds, attention_mask, labels, prompt)` returning the three new tensors
# (new tensors: the inputs are unchanged). Gradients must flow back to `prompt`.

# %%
# GRADED: prompt_tuning
import torch


def prepend_prompt(embeds, attention_mask, labels, prompt):
    """Prepend the n virtual tokens `prompt` to every sequence of the batch.

    embeds: (B, L, D), attention_mask: (B, L), labels: (B, L), prompt: (n, D)
    -> embeds (B, n + L, D), attention_mask (B, n + L) with n ones in front,
       labels (B, n + L) with n entries -100 in front.
    """
    # BEGIN SOLUTION
    batch, n = embeds.shape[0], prompt.shape[0]
    virtual = prompt.to(embeds.dtype).unsqueeze(0).expand(batch, -1, -1)  # (B, n, D)
    embeds = torch.cat([virtual, embeds], dim=1)  # (B, n + L, D)
    attention_mask = torch.cat([attention_mask.new_ones(batch, n), attention_mask], dim=1)  # (B, n + L)
    labels = torch.cat([labels.new_full((batch, n), -100), labels], dim=1)  # (B, n + L)
    return embeds, attention_mask, labels
    # END SOLUTION


# %%
check("prompt_tuning")

# %% [markdown]
# ## 6. Fine-tuning with LoRA
#
# `finetune(model, batches, target_names, r, alpha, lr)` puts everything together:
#
# 1. inject LoRA with `inject_lora(model, target_names, r, alpha)` (call it by name);
# 2. build `torch.optim.AdamW` over the **trainable** parameters only, with learning rate `lr` and
#    `weight_decay=0.0` (other arguments at their defaults): the frozen base needs no optimizer state;
# 3. for each `(inputs, targets)` in `batches` (both long `(B, L)`; `targets[:, t]` is the token that
#    follows `inputs[:, t]`, `-100` where there is nothing to predict): logits `model(inputs)`
#    `(B, L, V)`, the mean cross-entropy over the positions whose target is not `-100`, then
#    zero the gradients, backpropagate and take one optimizer step;
# 4. return the list of losses (Python floats), one per batch. Leave the model unmerged, in eval mode.

# %%
# GRADED: finetune
import torch
import torch.nn.functional as F


def finetune(model, batches, target_names, r, alpha, lr):
    """Inject LoRA into `model` and train it with AdamW on `batches`; returns the losses (floats)."""
    # BEGIN SOLUTION
    inject_lora(model, target_names, r, alpha)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    model.train()
    losses = []
    for inputs, targets in batches:
        logits = model(inputs)  # (B, L, V)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    return losses
    # END SOLUTION


# %%
check("finetune")

# %% [markdown]
# ## 7. Experiment: adapting to a new style
#
# `finetune_task` builds the new task: Python source from standard-library modules the base model
# never saw, rewritten in a style it has never met (see its docstring). Before fine-tuning the base
# model is poor at it; we fine-tune with LoRA on the query and value projections and compare the
# validation loss and some samples.

# %%
print(finetune_task.__doc__)
SEQ = 64
STEPS = 10 if SMOKE else 100
BATCH = 16
train_x, train_y = finetune_task(STEPS * BATCH, SEQ, seed=SEED, split="train")
val_x, val_y = finetune_task(64 if SMOKE else 256, SEQ, seed=SEED + 1, split="val")
val_x, val_y = val_x.to(device), val_y.to(device)
print(repr(tok.decode(train_x[0]))[:200])


def batches_of(x, y, batch=BATCH):
    for i in range(0, len(x), batch):
        yield x[i : i + batch].to(device), y[i : i + batch].to(device)


@torch.no_grad()
def val_loss(model, **kwargs):
    model.eval()
    logits = model(val_x, **kwargs)
    return F.cross_entropy(logits.flatten(0, 1), val_y.flatten(), ignore_index=-100).item()


def fresh_base():
    model, _ = load_tinygpt(device=device)
    return model


before = val_loss(base)
seed_everything(SEED)
lora_model = fresh_base()
t0 = time.perf_counter()
lora_losses = finetune(lora_model, tqdm(list(batches_of(train_x, train_y)), desc="LoRA r=8"),
                       ["query", "value"], r=8, alpha=16, lr=1e-2)
print(f"validation loss {before:.3f} -> {val_loss(lora_model):.3f} nats/char after {STEPS} LoRA steps "
      f"({time.perf_counter() - t0:.1f} s)")
print("base weights unchanged:", all(torch.equal(p, q) for p, q in
                                     zip(base.state_dict().values(), fresh_base().state_dict().values())))

# %% [markdown]
# ## 8. What each method trains
#
# Full fine-tuning trains every parameter. LoRA on a set of layers trains $r(\text{in} + \text{out})$
# per adapted layer, linear in $r$. Prompt tuning trains $n \cdot D$ numbers, whatever the depth.

# %%
def count_lora(targets, r):
    return inject_lora(fresh_base(), targets, r, alpha=2 * r)


full_count = sum(p.numel() for p in base.parameters())
rows = [("full fine-tuning", full_count)]
ALL_LINEAR = ["query", "key", "value", "out", "up", "down", "head"]
for r in [1, 2, 4, 8, 16]:
    rows.append((f"LoRA r={r} (query, value)", count_lora(["query", "value"], r)))
rows.append(("LoRA r=8 (all linear layers)", count_lora(ALL_LINEAR, 8)))
N_VIRTUAL = 8
rows.append((f"prompt tuning n={N_VIRTUAL}", N_VIRTUAL * base.cfg.d_model))
print(f"{'method':<32}{'trainable':>12}{'% of model':>12}")
for name, count in rows:
    print(f"{name:<32}{count:>12,}{100 * count / full_count:>11.2f}%")
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh([n for n, _ in rows], [c for _, c in rows])
ax.set_xscale("log")
ax.set_xlabel("trainable parameters (log scale)")
ax.invert_yaxis()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 9. Experiment: a rank sweep
#
# Does a larger rank help? We fine-tune the query and value projections at several ranks, with
# $\alpha = 2r$ so the effective scale stays the same, and plot the validation loss against $r$.

# %%
RANKS = [1, 4] if SMOKE else [1, 2, 4, 8, 16]
sweep = {}
for r in tqdm(RANKS, desc="rank sweep"):
    seed_everything(SEED)
    model = fresh_base()
    finetune(model, batches_of(train_x, train_y), ["query", "value"], r=r, alpha=2 * r, lr=1e-2)
    sweep[r] = val_loss(model)
    print(f"r = {r:2d}: validation loss {sweep[r]:.3f}")
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(list(sweep), list(sweep.values()), "o-", label="LoRA (query, value)")
ax.axhline(before, color="grey", ls="--", label="base model")
ax.set_xscale("log", base=2)
ax.set_xlabel("rank r")
ax.set_ylabel("validation loss (nats/char)")
ax.legend()
plt.show()

# %% [markdown]
# ## 10. Merging for inference, and its speed
#
# Unmerged, every adapted layer does two extra small matrix products; merged, none. We check the
# outputs agree and time a forward pass on the validation batch both ways (one CPU thread, best of
# a few runs).

# %%
adapters = [m for m in lora_model.modules() if isinstance(m, LoRALinear)]


def best_time(fn, repeats=3 if SMOKE else 5):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


threads = torch.get_num_threads()
torch.set_num_threads(1)
with torch.no_grad():
    unmerged_logits = lora_model(val_x)
    t_unmerged = best_time(lambda: lora_model(val_x))
    for m in adapters:
        m.merge()
    merged_logits = lora_model(val_x)
    t_merged = best_time(lambda: lora_model(val_x))
    for m in adapters:
        m.unmerge()
torch.set_num_threads(threads)
print("merged equals unmerged:", torch.allclose(merged_logits, unmerged_logits, atol=1e-4))
print(f"forward of {tuple(val_x.shape)}: unmerged {1e3 * t_unmerged:.1f} ms, merged {1e3 * t_merged:.1f} ms")

# %% [markdown]
# ## 11. Experiment: prompt tuning on the same task
#
# We train $n$ virtual tokens (initialised from the embeddings of random characters, as Lester et al.
# recommend over random vectors) with the base model frozen, and compare with LoRA at a similar or
# larger budget.

# %%
def prompt_tune(n_virtual, steps_lr=3e-2):
    seed_everything(SEED)
    model = fresh_base()
    for p in model.parameters():
        p.requires_grad_(False)
    init_ids = torch.randint(32, 127 - 32, (n_virtual,), generator=torch.Generator().manual_seed(SEED))
    prompt = nn.Parameter(model.tok_emb.weight[init_ids].detach().clone())
    opt = torch.optim.AdamW([prompt], lr=steps_lr, weight_decay=0.0)
    losses = []
    for x, y in batches_of(train_x[:, : SEQ - n_virtual], train_y[:, : SEQ - n_virtual]):
        embeds, mask, labels = prepend_prompt(model.embed(x), torch.ones_like(x), y, prompt)
        logits = model(embeds=embeds, attention_mask=mask)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    vx, vy = val_x[:, : SEQ - n_virtual], val_y[:, : SEQ - n_virtual]
    with torch.no_grad():
        embeds, mask, labels = prepend_prompt(model.embed(vx), torch.ones_like(vx), vy, prompt)
        logits = model(embeds=embeds, attention_mask=mask)
        val = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100).item()
    return val, losses


t0 = time.perf_counter()
prompt_val, prompt_losses = prompt_tune(N_VIRTUAL)
print(f"prompt tuning (n={N_VIRTUAL}, {N_VIRTUAL * base.cfg.d_model} parameters): validation loss {prompt_val:.3f} "
      f"({time.perf_counter() - t0:.1f} s); LoRA r=8: {val_loss(lora_model):.3f}; base: {before:.3f}")
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(lora_losses, label="LoRA r=8 (query, value)")
ax.plot(prompt_losses, label=f"prompt tuning n={N_VIRTUAL}")
ax.set_xlabel("step")
ax.set_ylabel("training loss (nats/char)")
ax.legend()
plt.show()

# %% [markdown]
# ### Samples before and after fine-tuning

# %%
start = tok.encode(tok.decode(val_x[0, :24].cpu())).unsqueeze(0).to(device)
for name, model in [("base model", base), ("LoRA r=8", lora_model)]:
    out = model.generate(start, 40 if SMOKE else 160, temperature=0.5, generator=torch.Generator().manual_seed(SEED))
    print(f"----- {name} -----")
    print(tok.decode(out[0]))

# %% [markdown]
# # GRADED: written_rank
# **What the rank sweep shows.** Describe how the validation loss changes with $r$ in your sweep and
# how many parameters each rank trains. Why can a rank-1 or rank-2 update already capture most of
# this adaptation, and what would you expect for a task further from the pre-training data?
# Why is $B$ initialised to zero and $A$ randomly, rather than both randomly or both zero?
# (4 to 6 sentences.)
#
# BEGIN SOLUTION
# In our sweep (base model 2.71 nats/char) rank 1 already brings the validation loss to about 2.11,
# and larger ranks add a little (2.05 at $r = 2$, 2.00 at $r = 4$, then 1.99 for $r = 8$ and 16):
# most of the gain comes from the first direction and it saturates around $r = 4$, while the
# trainable parameters grow linearly, $r(\text{in} + \text{out}) = 128r$ per adapted layer ($512r$ for
# the query and value projections of both blocks). The new style is a small, systematic change
# (two characters trade roles), so the weight update it needs has a very low intrinsic rank, as Hu
# et al. observed for much larger models; a task further from the pre-training data (a new language,
# new skills) needs a higher-rank update and would gain more from a larger $r$ or from adapting more
# layers. $B = 0$ makes the adapted model start exactly at the pre-trained one ($\Delta W = 0$), so
# fine-tuning starts from its knowledge rather than from a random perturbation; $A$ must be random
# because with both zero every gradient vanishes ($\partial L/\partial A \propto B^\top$,
# $\partial L/\partial B \propto A$) and nothing would train, while a random $A$ gives $B$ a non-zero
# gradient at the first step (and $A$ gets one as soon as $B \neq 0$).
# END SOLUTION

# %% [markdown]
# # GRADED: written_merge
# **Merging.** Compare the two timings of section 10 and explain them. When would you keep the
# adapter unmerged at inference time, and what does merging cost if one server must serve many
# different fine-tuned adapters of the same base model? Why is merging followed by unmerging not
# exactly the identity in floating point? (3 to 5 sentences.)
#
# BEGIN SOLUTION
# Merged, the model runs exactly the base architecture, so its forward is as fast as the base
# model's; unmerged, every adapted layer adds two thin matrix products ($x A^\top$ then $B^\top$) and
# an addition, a small but measurable overhead (a few percent to tens of percent here, because this
# model is tiny and per-operator overhead dominates; about 10% in our run). Keeping adapters unmerged is useful when many
# adapters share one base model: one copy of the weights serves every user, and a batch can mix
# requests for different adapters (S-LoRA, punica), whereas merging creates one full weight copy per
# adapter or forces re-merging when switching. Merging rounds $W_0 + \Delta W$ to float32 and
# unmerging rounds again, so $(W_0 + \Delta W) - \Delta W$ differs from $W_0$ in the last bits; to
# restore the base exactly one keeps a copy of $W_0$ or never merges into the shared weights.
# END SOLUTION

# %% [markdown]
# # GRADED: written_prompt
# **Prompt tuning versus LoRA.** Compare the number of trainable parameters, the validation loss and
# the training curves of the two methods in your runs. What does prompt tuning cost at inference
# time that LoRA does not, and why do Lester et al. find that prompt tuning only matches full
# fine-tuning for large models? (3 to 5 sentences.)
#
# BEGIN SOLUTION
# Prompt tuning trained 512 numbers ($n \cdot D$), exactly as many as LoRA at $r = 1$ and 8 times fewer
# than at $r = 8$, yet it reached only 2.45 nats/char (base 2.71) where LoRA reached 2.11 at $r = 1$ and
# 1.99 at $r = 8$, and its training curve fell more slowly: a few virtual tokens can only
# steer the frozen model through its attention, they cannot change what each layer computes from the
# real tokens. At inference the $n$ virtual tokens lengthen every sequence, costing attention and
# cache memory at every layer and using up context length (here 8 of the 64 positions), whereas a
# merged LoRA costs nothing. Lester et al. show the gap to full fine-tuning closes as models grow to
# billions of parameters: a large model has learnt so many behaviours that choosing among them with a
# conditioning prefix is enough, while a small model must actually be changed.
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * LoRA adds $\frac{\alpha}{r}BA$ to a frozen weight: $r(\text{in}+\text{out})$ parameters per layer,
#   $B = 0$ at the start so training begins at the pre-trained model.
# * Apply it as two thin products during training; merge it into the weight for inference.
# * Inject by module name, freeze everything else, count what you train.
# * Prompt tuning trains only $n$ input embeddings; mask them in, keep them out of the loss.

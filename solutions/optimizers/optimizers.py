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
# # Optimizers: from SGD to Muon and muP
#
# A network is only as good as the procedure that trains it. In this assignment you write the
# optimizers that trained most of the models you have heard of, plus two recent ideas that change
# how large models are trained today.
#
# **Learning goals.** By the end you can
#
# 1. implement SGD with momentum, Nesterov momentum and weight decay as a `torch.optim.Optimizer`
#    that matches `torch.optim.SGD` step for step;
# 2. implement Adam, explain bias correction and where $\epsilon$ goes, and explain why AdamW
#    *decouples* weight decay from the adaptive scaling;
# 3. orthogonalise a matrix with the quintic Newton-Schulz iteration, and say what it does to the
#    singular values;
# 4. build Muon (momentum + Newton-Schulz for hidden weight matrices) and train with it next to AdamW;
# 5. write a cosine learning-rate schedule with linear warmup;
# 6. set per-layer learning rates under the maximal-update parametrisation (muP) and read a
#    coordinate check.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after to run the public tests. Only graded cells and cells made only of `import` statements
# run when grading, so a graded cell must not rely on variables defined in experiment cells
# (it may use functions and classes from other graded cells and the imports below).
# The experiments (training runs, plots) are not graded but you need them to answer the written
# questions. Set the environment variable `COURSE_SMOKE=1` to run every experiment at a tiny size.
#
# **What to expect.** At full size the experiments train small MLPs on 8x8 digits: the whole notebook
# ran in 13 s on a recent 2-core CPU (allow a minute on an older laptop; a GPU helps little at this size). To try everything in seconds first, add
# `import os; os.environ["COURSE_SMOKE"] = "1"` to the setup cell (or start Jupyter with
# `COURSE_SMOKE=1` set), run all, then remove it for the real run.
#
# **Notation.** $\theta$ parameters, $g_t$ the gradient at step $t$ (steps count from 1),
# $\eta$ learning rate (`lr`), $\lambda$ weight decay, $\mu$ momentum. Shapes: a weight matrix of a
# `nn.Linear(n_in, n_out)` is `(n_out, n_in)` = `(rows, cols)`.

# %%
import math
import os

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder import check, require
from shared import get_device, seed_everything
from shared.data import digits_loaders
from shared.models import MLP
from shared.plot import plot_coord_check, plot_curves, plot_lr_schedule, plot_singular_values
from shared.train import train

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
SEED = 0
seed_everything(SEED)

EPOCHS = 2 if SMOKE else 25  # training epochs per optimizer on the digits data
BATCH_SIZE = 64
print(f"device={device}  smoke={SMOKE}  epochs={EPOCHS}")

train_loader, val_loader = digits_loaders(batch_size=BATCH_SIZE, val_fraction=0.2, seed=SEED, device=device)
xb, yb = next(iter(train_loader))
print("one batch:", tuple(xb.shape), xb.dtype, tuple(yb.shape), yb.dtype)


# %% [markdown]
# ### The experiment we run for every optimizer
#
# We classify scikit-learn's 8x8 handwritten digits (1,797 images, 64 pixels in $[0, 1]$, 10 classes)
# with a small MLP, `MLP(64, 128, 10, n_hidden=2)`: an input layer $64 \to 128$, two hidden layers
# $128 \to 128$ and an output layer $128 \to 10$. Every run starts from the same initial weights
# (same seed) and sees the same batches in the same order, so the curves differ only because of
# the optimizer.

# %%
def make_model(width=128, n_hidden=2, seed=SEED):
    """The MLP every optimizer trains, with identical initial weights for a given seed."""
    seed_everything(seed)
    return MLP(64, width, 10, n_hidden=n_hidden).to(device)


def run(name, make_optimizer, lr_schedule=None, epochs=EPOCHS):
    """Train a fresh model with `make_optimizer(model)`; returns the training History.
    Fresh loaders too, so every run sees the same batches in the same order."""
    model = make_model()
    optimizer = make_optimizer(model)
    train_dl, val_dl = digits_loaders(batch_size=BATCH_SIZE, val_fraction=0.2, seed=SEED, device=device)
    return train(model, optimizer, train_dl, epochs=epochs, val_loader=val_dl,
                 lr_schedule=lr_schedule, device=device, desc=name)


histories = {}  # optimizer name -> History, filled in as we go


# %% [markdown]
# ## 1. SGD with momentum, Nesterov momentum and weight decay
#
# Plain gradient descent takes $\theta_t = \theta_{t-1} - \eta\, g_t$. Two additions make it the
# workhorse it is:
#
# * **Momentum** keeps a running sum of past gradients, the *buffer* $b_t$, so that directions
#   where gradients agree build up speed and directions where they oscillate cancel out.
# * **Weight decay** (here: the L2 penalty $\tfrac{\lambda}{2}\|\theta\|^2$) adds $\lambda\theta$
#   to the gradient.
#
# We follow `torch.optim.SGD` exactly (with `dampening = 0`):
#
# $$
# \begin{aligned}
# g_t &= \nabla_\theta f_t(\theta_{t-1}) + \lambda\, \theta_{t-1} \\
# b_t &= \begin{cases} g_t & t = 1 \text{ (the buffer starts as the first gradient, not as zeros)}\\
#        \mu\, b_{t-1} + g_t & t > 1 \end{cases} \\
# u_t &= \begin{cases} g_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise}\end{cases} \\
# \theta_t &= \theta_{t-1} - \eta\, u_t
# \end{aligned}
# $$
#
# With $\mu = 0$ there is no buffer at all: $u_t = g_t$. *Nesterov* momentum evaluates the
# "look-ahead": instead of stepping along the buffer it steps along the gradient plus the buffer's
# next contribution, which damps oscillations. It only makes sense with $\mu > 0$.
#
# **How a `torch.optim.Optimizer` is organised.** The constructor hands the parameters and a dict of
# defaults to `super().__init__`, which builds `self.param_groups`: a list of dicts, each with a
# `"params"` list and its own hyperparameters (`"lr"`, `"momentum"`, ...). A learning-rate schedule
# changes `group["lr"]` between steps, so **read the hyperparameters from the group inside `step`**,
# never cache them in `__init__`. Per-parameter tensors (the momentum buffer) live in
# `self.state[p]`, a dict that starts empty for every parameter.
#
# **Pitfalls.**
# * Skip parameters whose `p.grad is None` (they took no part in the loss).
# * Do not modify `p.grad` in place: the caller owns it. `g = p.grad.add(p, alpha=wd)` makes a new tensor.
# * `step` runs under `@torch.no_grad()`: in-place updates of `p` must not be recorded by autograd.
# * Raise `ValueError` for a negative learning rate, a negative momentum or weight decay, and for
#   `nesterov=True` with `momentum <= 0`.

# %%
# GRADED: sgd
class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay.

    Matches torch.optim.SGD with dampening = 0:
        g = grad + weight_decay * p
        buf = g on the first step, else momentum * buf + g        (only if momentum != 0)
        update = g + momentum * buf if nesterov else buf            (update = g if momentum == 0)
        p = p - lr * update
    State per parameter: self.state[p]["momentum_buffer"], same shape as p.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        # Validate the arguments: raise ValueError for lr < 0, momentum < 0, weight_decay < 0,
        # and for nesterov=True with momentum <= 0.
        # BEGIN SOLUTION
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr} (must be >= 0)")
        if momentum < 0.0:
            raise ValueError(f"invalid momentum: {momentum} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"invalid weight_decay: {weight_decay} (must be >= 0)")
        if nesterov and momentum <= 0.0:
            raise ValueError("Nesterov momentum requires momentum > 0")
        # END SOLUTION
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        # BEGIN SOLUTION
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            wd, nesterov = group["weight_decay"], group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd != 0:
                    g = g.add(p, alpha=wd)  # new tensor: p.grad stays untouched
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:  # first step: the buffer is the gradient itself
                        buf = g.clone()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(mu).add_(g)
                    g = g.add(buf, alpha=mu) if nesterov else buf
                p.add_(g, alpha=-lr)
        # END SOLUTION
        return loss


# %%
check("sgd")

# %% [markdown]
# ### Experiment: plain SGD, momentum and Nesterov momentum
#
# The same learning rate for all three runs. Momentum $\mu = 0.9$ multiplies the effective step
# size by about $1 / (1 - \mu) = 10$ once the buffer has built up, which is why it trains so much
# faster here than plain SGD.

# %%
require("sgd")  # stops here, before any figure, if a question it uses is not written yet
histories["SGD"] = run("SGD", lambda m: SGD(m.parameters(), lr=0.05))
histories["SGD+momentum"] = run("SGD+momentum", lambda m: SGD(m.parameters(), lr=0.05, momentum=0.9))
histories["SGD+Nesterov"] = run(
    "SGD+Nesterov", lambda m: SGD(m.parameters(), lr=0.05, momentum=0.9, nesterov=True)
)
plot_curves({k: histories[k] for k in ["SGD", "SGD+momentum", "SGD+Nesterov"]},
            smooth=10, log=True, title="SGD on digits: training loss")
plt.show()

# %% [markdown]
# ## 2. Adam and AdamW
#
# Adam keeps two exponential moving averages per parameter: of the gradient (the first moment,
# $m$) and of its elementwise square (the second moment, $v$). It then divides the first by the
# square root of the second, so that every coordinate moves by roughly $\eta$ no matter how large
# its gradients are:
#
# $$
# \begin{aligned}
# m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, &\qquad v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,
# \qquad m_0 = v_0 = 0,\\
# \hat m_t &= \frac{m_t}{1 - \beta_1^{t}}, & \hat v_t &= \frac{v_t}{1 - \beta_2^{t}}, \\
# \theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.
# \end{aligned}
# $$
#
# **Bias correction.** Because $m_0 = v_0 = 0$, the averages are biased towards zero early on:
# after one step $m_1 = (1-\beta_1) g_1$. Dividing by $1 - \beta^t$ removes exactly that bias
# (for a constant gradient, $\hat m_t = g$ at every $t$). $t$ counts the steps *this parameter*
# has taken: keep it in `self.state[p]["step"]`, so a parameter that had no gradient for a while
# keeps its own count.
#
# **Where $\epsilon$ goes.** $\epsilon$ is added *after* taking the square root of the
# *bias-corrected* $\hat v_t$, as in `torch.optim.Adam`. Adding it inside the square root, or before
# bias correction, gives a different optimizer; the difference shows up for tiny gradients
# ($|g| \sim 10^{-8}$), which the tests use.
#
# **Weight decay, two ways.**
# * `decoupled=False` (Adam with L2): add $\lambda\theta_{t-1}$ to the gradient before the moments,
#   like SGD. The decay term is then divided by $\sqrt{\hat v_t}$ like everything else.
# * `decoupled=True` (AdamW, Loshchilov & Hutter, arXiv:1711.05101): shrink the parameter directly,
#   $\theta \leftarrow (1 - \eta\lambda)\,\theta$, *before* the Adam update, and leave the gradient
#   alone. This is `torch.optim.AdamW`.
#
# State per parameter: `"step"` (an int), `"exp_avg"` ($m$) and `"exp_avg_sq"` ($v$), both shaped like $\theta$.

# %%
# GRADED: adam
class Adam(torch.optim.Optimizer):
    """Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1) and, with decoupled=True, AdamW.

        if decoupled: p = p * (1 - lr * weight_decay)      else: g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g                   v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)                         v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    t is the per-parameter step count self.state[p]["step"] (1 on the first update).
    State per parameter: "step" (int), "exp_avg" (m) and "exp_avg_sq" (v), each shaped like p.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # Validate the arguments: raise ValueError for lr < 0, eps < 0, weight_decay < 0,
        # and betas outside [0, 1).
        # BEGIN SOLUTION
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr} (must be >= 0)")
        if eps < 0.0:
            raise ValueError(f"invalid eps: {eps} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"invalid weight_decay: {weight_decay} (must be >= 0)")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"invalid betas: {betas} (each must be in [0, 1))")
        # END SOLUTION
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        # BEGIN SOLUTION
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, decoupled = group["weight_decay"], group["decoupled"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:  # first time this parameter gets a gradient
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]

                if wd != 0:
                    if decoupled:
                        p.mul_(1 - lr * wd)  # AdamW: shrink the weights, gradient untouched
                    else:
                        g = g.add(p, alpha=wd)  # L2: the decay goes through the adaptive scaling

                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)  # eps after the sqrt
        # END SOLUTION
        return loss


# %%
check("adam")

# %% [markdown]
# ### Experiment: Adam and AdamW on digits
#
# A typical Adam learning rate is $10^{-3}$ to $3\cdot10^{-3}$, far below SGD's: Adam's steps
# have size about $\eta$ *per coordinate* whatever the gradient's scale. Both runs use the same
# $\lambda = 10^{-2}$; compare how far each gets the training loss down (the table after the Muon
# experiment has the numbers).

# %%
require("adam")  # stops here, before any figure, if a question it uses is not written yet
histories["Adam"] = run("Adam", lambda m: Adam(m.parameters(), lr=2e-3, weight_decay=1e-2))
histories["AdamW"] = run("AdamW", lambda m: Adam(m.parameters(), lr=2e-3, weight_decay=1e-2, decoupled=True))
plot_curves({k: histories[k] for k in ["SGD+momentum", "Adam", "AdamW"]},
            smooth=10, log=True, title="Adam vs SGD on digits: training loss")
plt.show()

# %% [markdown]
# ### Experiment: what L2 inside Adam does to weight decay
#
# Two independent scalar "parameters" start at $\theta = 1$. Both see pure zero-mean noise as gradient
# (so the loss itself does not care where they are, only the weight decay pulls them to 0), but the
# noise of the first has scale 10 and of the second $10^{-3}$. We run both with $\eta = 10^{-3}$ and
# weight decay $\lambda = 1$, once as L2 inside Adam and once decoupled (AdamW).

# %%
require("adam")  # stops here, before any figure, if a question it uses is not written yet
def decay_experiment(decoupled, steps=300 if SMOKE else 2000, lr=1e-3, wd=1.0):
    gen = torch.Generator().manual_seed(0)
    theta = torch.ones(2, dtype=torch.float64, requires_grad=True)
    noise_scale = torch.tensor([10.0, 1e-3], dtype=torch.float64)
    opt = Adam([theta], lr=lr, weight_decay=wd, decoupled=decoupled)
    trace = []
    for _ in range(steps):
        theta.grad = noise_scale * torch.randn(2, generator=gen, dtype=torch.float64)
        opt.step()
        trace.append(theta.detach().clone())
    return torch.stack(trace)  # (steps, 2)


fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, decoupled in zip(axes, [False, True]):
    trace = decay_experiment(decoupled)
    ax.plot(trace[:, 0], label="large gradients (noise scale 10)")
    ax.plot(trace[:, 1], label="small gradients (noise scale 1e-3)")
    ax.set_title("AdamW (decoupled)" if decoupled else "Adam + L2")
    ax.set_xlabel("step")
    ax.legend()
axes[0].set_ylabel(r"$\theta$")
plt.tight_layout()
plt.show()

# %% [markdown]
# # GRADED: written_adamw
# **Why decouple weight decay from Adam?** Using the plot above and the update rules, explain what
# happens to the weight-decay term when it is added to the gradient in Adam, which parameters end up
# regularised more or less, and what AdamW changes. (4 to 6 sentences.)
#
# BEGIN SOLUTION
# With L2 inside Adam the decay term $\lambda\theta$ is added to the gradient, so it goes into
# $m$ and $v$ and is divided by $\sqrt{\hat v_t}$ like the rest of the gradient. A weight with
# large gradients (large $\hat v$) is therefore barely decayed, while a weight with small gradients
# sees its decay term normalised up to a step of size about $\eta$ and is pulled hard to zero: in
# the plot the noisy parameter only falls to about 0.8 while the quiet one is driven to nearly 0.
# The effective regularisation thus depends on each weight's gradient history rather than on
# $\lambda$, and it is strongest exactly where the data says least; on the digits, Adam + L2 with
# the same $\lambda$ stalls at a much higher training loss than AdamW, because once the data
# gradients become small the normalised decay term dominates the update. AdamW applies
# $\theta \leftarrow (1-\eta\lambda)\theta$ outside the adaptive scaling, so every weight shrinks
# by the same factor per step (both curves follow $(1-\eta\lambda)^t \approx e^{-2}$ after
# 2000 steps), which is what weight decay means for plain SGD. The decay strength is then set by
# $\lambda$ alone, $\eta$ and $\lambda$ are easier to tune separately, and AdamW generalises better
# in practice (Loshchilov & Hutter).
# END SOLUTION

# %% [markdown]
# ## 3. Newton-Schulz orthogonalisation
#
# Write the SVD of a matrix $G = U S V^\top$ ($G$ is $m \times n$, $S$ holds the singular values
# $\sigma_1 \ge \dots \ge \sigma_r > 0$). Its *orthogonalisation* is $U V^\top$: same singular vectors,
# all singular values set to 1. It is the orthogonal matrix closest to $G$, and the steepest-descent
# direction under the spectral norm, which is the idea behind Muon (next question).
#
# An SVD is slow on accelerators. Newton-Schulz instead applies an odd matrix polynomial again and
# again. For $X = U S V^\top$ we have $X X^\top = U S^2 U^\top$, so
#
# $$
# a X + b (X X^\top) X + c (X X^\top)^2 X \;=\; U\, \big(a S + b S^3 + c S^5\big)\, V^\top
#   \;=\; U\, p(S)\, V^\top, \qquad p(s) = a s + b s^3 + c s^5 .
# $$
#
# The singular vectors never change; each singular value just goes through the scalar map $p$.
# With the coefficients $(a, b, c) = (3.4445, -4.7750, 2.0315)$ from Keller Jordan's Muon,
# $p$ has a steep slope $a \approx 3.4$ at 0, so small singular values grow fast, and iterating it
# pushes every $s \in (0, 1]$ into a band around 1 (roughly $[0.7, 1.2]$), without converging to exactly 1.
# The iteration needs $\sigma_1 \le 1$ to start with; dividing by the Frobenius norm guarantees it,
# since $\|G\|_F = \sqrt{\sum_i \sigma_i^2} \ge \sigma_1$.
#
# The algorithm, for $G$ of shape `(..., m, n)`:
#
# 1. $X = G / (\|G\|_F + \epsilon)$ (the norm over the last two dimensions);
# 2. if $m > n$ work with $X^\top$ (`X.mT`), so that the Gram matrix $A$ is the *smaller* one, $\min(m,n)^2$;
# 3. repeat `steps` times: $A = X X^\top$, $\;B = bA + cA^2$ (here $A^2 = AA$), $\;X = aX + BX$;
# 4. transpose back if you transposed.
#
# **Pitfalls.** Work in $G$'s own dtype (the reference does not cast; production Muon runs it in
# bfloat16 on GPU). `@` broadcasts over leading batch dimensions, and `.mT` transposes the last two,
# so the same code handles a stack of matrices. Do not call an SVD.

# %%
# GRADED: newton_schulz
def newton_schulz(G, steps=5, eps=1e-7):
    """Approximately orthogonalise G (replace its singular values by values close to 1).

    Quintic Newton-Schulz iteration from Keller Jordan's Muon, (a, b, c) = (3.4445, -4.7750, 2.0315):
        X = G / (||G||_F + eps);   transpose if rows > cols
        repeat `steps` times:  A = X X^T;  B = b A + c A A;  X = a X + B X
    Each iteration maps every singular value s of X to a s + b s^3 + c s^5 and keeps the singular vectors.

    G: (..., m, n), any floating dtype; returns the same shape and dtype. Does not modify G.
    """
    if G.ndim < 2:
        raise ValueError(f"newton_schulz needs a matrix (or a batch of matrices), got shape {tuple(G.shape)}")
    a, b, c = 3.4445, -4.7750, 2.0315
    # BEGIN SOLUTION
    X = G / (G.norm(dim=(-2, -1), keepdim=True) + eps)  # (..., m, n), Frobenius norm <= 1
    transposed = G.size(-2) > G.size(-1)
    if transposed:
        X = X.mT  # (..., n, m): the Gram matrix below is the smaller one
    for _ in range(steps):
        A = X @ X.mT  # (..., k, k), k = min(m, n)
        B = b * A + c * (A @ A)  # (..., k, k)
        X = a * X + B @ X
    if transposed:
        X = X.mT
    return X
    # END SOLUTION


# %%
check("newton_schulz")

# %% [markdown]
# ### Experiment: the spectrum before and after
#
# A Gaussian $128 \times 64$ matrix has singular values spread over roughly a factor of 5.
# After five Newton-Schulz steps they all sit in a narrow band around 1. (We compute singular values
# as square roots of the eigenvalues of $G^\top G$, in float64.)

# %%
require("newton_schulz")  # stops here, before any figure, if a question it uses is not written yet
def singular_values(M):
    """Singular values of a matrix, largest first: sqrt of the eigenvalues of M^T M (or M M^T)."""
    M = M.double()
    gram = M.mT @ M if M.size(-2) >= M.size(-1) else M @ M.mT
    return torch.linalg.eigvalsh(gram).clamp(min=0).sqrt().flip(-1)


gen = torch.Generator().manual_seed(0)
G = torch.randn(128, 64, generator=gen)
before = singular_values(G / G.norm())  # what the iteration starts from
after = singular_values(newton_schulz(G))
plot_singular_values(before, after)
plt.show()
print(f"before: sigma in [{before.min():.3f}, {before.max():.3f}]   "
      f"after 5 steps: sigma in [{after.min():.3f}, {after.max():.3f}]")

# %% [markdown]
# How many steps are needed? Below, the range of the singular values of NS$(G)$ for several step
# counts, and the scalar map $p$ iterated $k$ times, which is what each singular value goes
# through (starting from $\sigma / \|G\|_F$).

# %%
require("newton_schulz")  # stops here, before any figure, if a question it uses is not written yet
for k in [0, 1, 2, 3, 4, 5, 8]:
    s = singular_values(newton_schulz(G, steps=k))
    print(f"steps={k}:  min sigma = {s.min():.3f}   max sigma = {s.max():.3f}")

a, b, c = 3.4445, -4.7750, 2.0315
s0 = torch.logspace(-4, 0, 400, dtype=torch.float64)
s = s0.clone()
fig, ax = plt.subplots(figsize=(6, 3.5))
for k in range(1, 6):
    s = a * s + b * s**3 + c * s**5
    ax.plot(s0, s, label=f"$p^{{({k})}}(s)$")
ax.axhline(1.0, color="grey", lw=0.5)
ax.set_xscale("log")
ax.set_xlabel(r"input singular value $s = \sigma / \|G\|_F$")
ax.set_ylabel("output singular value")
ax.set_title("Newton-Schulz: the scalar map iterated")
ax.legend()
plt.show()

# %% [markdown]
# # GRADED: written_ns
# **What does Newton-Schulz do to the spectrum, and why is "approximately orthogonal" enough?**
# Use the plots: what happens to the singular vectors and to the singular values, which inputs are
# not pushed to about 1 after 5 steps, and why does Muon not need the exact $UV^\top$? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# Newton-Schulz never changes the singular vectors: $X = USV^\top$ becomes $U\,p(S)\,V^\top$, so
# each singular value goes independently through the odd quintic $p$. After dividing by $\|G\|_F$
# all singular values lie in $(0, 1]$ (here about 0.04 to 0.21); $p$ has slope about 3.4 at zero, so
# each step multiplies small values by about 3.4 and five steps push everything into a band around
# 1 (0.68 to 1.13 here). The iteration does not converge to exactly 1 but oscillates inside the
# band, which is the price of the large slope; more steps do not narrow it (steps 3 to 8 give the
# same range). Only singular values that are tiny relative to $\|G\|_F$ (below about $10^{-3}$ in
# the iterated-map plot) are left visibly below the band, and exact zeros stay zero, so the rank is
# preserved. For an optimizer this is enough: the point of orthogonalising is that the update moves
# all singular directions of the momentum by a similar amount instead of being dominated by the
# top few, and whether a direction is scaled by 0.7 or 1.1 only perturbs its effective learning
# rate a little, much less than gradient noise does. The exact $UV^\top$ would need an SVD or many
# more matrix products for no measurable gain in training.
# END SOLUTION

# %% [markdown]
# ## 4. Muon
#
# Muon (Keller Jordan, 2024: "Muon: An optimizer for hidden layers in neural networks") updates each
# hidden weight *matrix* with the orthogonalised momentum:
#
# $$
# \begin{aligned}
# B_t &= \mu B_{t-1} + (1 - \mu)\, g_t, \qquad B_0 = 0
#   &&\texttt{buf.lerp\_(g, 1 - momentum)}\\
# U_t &= \begin{cases} (1-\mu)\, g_t + \mu B_t & \text{Nesterov} \\ B_t & \text{otherwise} \end{cases}
#   &&\texttt{g.lerp(buf, momentum)}\\
# O_t &= \mathrm{NS}(U_t) \quad \text{(\texttt{ns\_steps} iterations)} \\
# \theta_t &= (1 - \eta\lambda)\,\theta_{t-1} - \eta\,\sqrt{\max(1,\ m/n)}\; O_t
#   && \theta \text{ of shape } (m, n)
# \end{aligned}
# $$
#
# `torch.lerp(start, end, w)` is `start + w * (end - start)`. The factor $\sqrt{\max(1, m/n)}$
# keeps the size of the update per entry comparable for tall matrices (an orthogonal $m\times n$
# matrix with $m > n$ has entries of size about $1/\sqrt m$ instead of $1/\sqrt n$). The weight decay is
# decoupled, like AdamW's.
#
# Muon is only for 2-D parameters, and in practice only for *hidden* ones: the input layer
# (embedding), the output layer (head) and all biases and gains are trained with AdamW. Your
# constructor must raise `ValueError` when given a parameter that is not 2-D.
#
# Note: `torch.optim.Muon` (PyTorch >= 2.9) implements the same rule but runs Newton-Schulz in
# bfloat16 and has other defaults (`lr=1e-3`, `weight_decay=0.1`); ours keeps the dtype and uses
# Keller Jordan's defaults.

# %%
# GRADED: muon
class Muon(torch.optim.Optimizer):
    """Muon: MomentUm Orthogonalized by Newton-Schulz, for 2-D (hidden) weight matrices.

        buf = momentum * buf + (1 - momentum) * g                (buf starts at zeros)
        update = (1 - momentum) * g + momentum * buf if nesterov else buf
        O = newton_schulz(update, ns_steps)
        p = p * (1 - lr * weight_decay) - lr * sqrt(max(1, rows / cols)) * O      p: (rows, cols)
    State per parameter: self.state[p]["momentum_buffer"], shaped like p.
    """

    def __init__(self, params, lr=0.02, momentum=0.95, nesterov=True, ns_steps=5, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr} (must be >= 0)")
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, weight_decay=weight_decay)
        super().__init__(params, defaults)
        # Muon orthogonalises matrices: raise ValueError for every parameter that is not 2-D.
        # BEGIN SOLUTION
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only handles 2-D parameters, got shape {tuple(p.shape)}: "
                        "train biases, gains and other parameters with Adam/AdamW"
                    )
        # END SOLUTION

    @torch.no_grad()
    def step(self, closure=None):
        """Performs one update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        # BEGIN SOLUTION
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad  # (rows, cols)
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(g)
                buf = state["momentum_buffer"]
                buf.lerp_(g, 1 - mu)
                update = g.lerp(buf, mu) if group["nesterov"] else buf
                O = newton_schulz(update, steps=group["ns_steps"])  # (rows, cols), singular values ~ 1
                rows, cols = p.shape
                p.mul_(1 - lr * wd)
                p.add_(O, alpha=-lr * math.sqrt(max(1.0, rows / cols)))
        # END SOLUTION
        return loss


# %%
check("muon")


# %% [markdown]
# ### Experiment: Muon for the hidden matrices, AdamW for the rest
#
# `shared.train.train` takes one optimizer, so we wrap two optimizers in one object: Muon for the
# hidden weight matrices and AdamW for the input layer, the output layer and every bias.
# Its `param_groups` is the concatenation of both optimizers' groups, so a learning-rate
# schedule applied to it reaches both.

# %%
require("adam", "muon")  # stops here, before any figure, if a question it uses is not written yet
class Combined:
    """Several optimizers over disjoint parameter sets, stepped as one."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers

    @property
    def param_groups(self):
        return [group for opt in self.optimizers for group in opt.param_groups]

    def zero_grad(self, set_to_none=True):
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for opt in self.optimizers:
            opt.step()
        return loss


def muon_adamw(model, lr_muon=0.02, lr_adam=2e-3, weight_decay=1e-2):
    """Muon on the hidden weight matrices, AdamW on everything else (input, output, biases)."""
    hidden = [layer.weight for layer in model.hidden]
    hidden_ids = {id(p) for p in hidden}
    rest = [p for p in model.parameters() if id(p) not in hidden_ids]
    return Combined(
        Muon(hidden, lr=lr_muon, weight_decay=weight_decay),
        Adam(rest, lr=lr_adam, weight_decay=weight_decay, decoupled=True),
    )


histories["Muon+AdamW"] = run("Muon+AdamW", muon_adamw)

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot_curves(histories, key="train_loss", smooth=10, log=True, title="training loss", ax=axes[0])
plot_curves(histories, key="val_acc", title="validation accuracy", ax=axes[1])
plt.tight_layout()
plt.show()

def last_epoch_loss(history):
    """Mean training loss over the last epoch (a single step's loss is too noisy to compare)."""
    losses = history["train_loss"][-len(train_loader):]
    return sum(losses) / len(losses)


print(f"{'optimizer':<14} {'train loss (last epoch)':>23} {'val loss':>9} {'val acc':>8}")
for name, h in histories.items():
    print(f"{name:<14} {last_epoch_loss(h):>23.4f} {h.last('val_loss'):>9.4f} {h.last('val_acc'):>8.3f}")

# %% [markdown]
# ## 5. Learning-rate schedule: linear warmup, then cosine decay
#
# Large steps at the very start of training, while Adam's second-moment estimate is still noisy and the
# weights are random, can send training off course; large steps at the end keep the loss bouncing
# around a minimum. The schedule almost every modern model uses warms up linearly, then decays
# along half a cosine. With $T$ = `total_steps`, $W$ = `warmup_steps`, $\eta_{\max}$ = `peak_lr`,
# $\eta_{\min}$ = `min_lr`, the learning rate **before** step $s$ ($s = 0, 1, 2, \dots$) is
#
# $$
# \eta(s) = \begin{cases}
#   \eta_{\max}\, \dfrac{s}{W} & s < W \\[2ex]
#   \eta_{\min} + \tfrac12 (\eta_{\max} - \eta_{\min}) \big(1 + \cos(\pi\, q)\big),
#   \quad q = \min\!\Big(1, \max\!\big(0, \tfrac{s - W}{\max(1,\ T - W)}\big)\Big) & s \ge W
# \end{cases}
# $$
#
# **Convention (the tests check exactly this).**
# * Step 0 gives $0.0$ when $W > 0$ (the very first update uses learning rate 0), step $W$ gives
#   exactly $\eta_{\max}$, the warmup is linear in between.
# * When $T > W$, step $T$ and every step after it give exactly $\eta_{\min}$ (the progress $q$ is
#   clamped to 1).
# * The midpoint of the decay, $s = W + (T - W)/2$, gives $(\eta_{\max} + \eta_{\min}) / 2$.
# * `warmup_steps = 0` means no warmup: step 0 gives $\eta_{\max}$. If $T \le W$ the formula still
#   rules: the warmup runs to $\eta_{\max}$ at step $W$, and from step $W + 1$ on the learning rate
#   is $\eta_{\min}$ (the $\max(1, \cdot)$ avoids a division by zero). Do not test `step >= total_steps` first.
# * The result is a Python `float`.
#
# `shared.train.train` accepts `lr_schedule`, a function from the step to a *multiplier* of each
# group's initial learning rate: pass `lambda s: cosine_with_warmup(s, T, W, 1.0)`.

# %%
# GRADED: lr_schedule
def cosine_with_warmup(step, total_steps, warmup_steps, peak_lr, min_lr=0.0):
    """Learning rate for step `step` (0-based): linear warmup from 0 to peak_lr over warmup_steps
    steps, then half a cosine from peak_lr down to min_lr at total_steps; min_lr afterwards.

        step < warmup_steps:  peak_lr * step / warmup_steps
        otherwise:            q = clamp((step - warmup_steps) / max(1, total_steps - warmup_steps), 0, 1)
                              min_lr + 0.5 * (peak_lr - min_lr) * (1 + cos(pi * q))
    Returns a Python float.
    """
    # BEGIN SOLUTION
    if step < warmup_steps:
        return float(peak_lr * step / warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, max(0.0, progress))
    return float(min_lr + 0.5 * (peak_lr - min_lr) * (1.0 + math.cos(math.pi * progress)))
    # END SOLUTION


# %%
check("lr_schedule")

# %% [markdown]
# ### Experiment: the schedule, and training Muon+AdamW with it
#
# We warm up over the first 10% of the steps and decay to 0 at the end. Compare the end of the two
# training curves: with a constant learning rate the loss keeps bouncing (and can spike) near
# the minimum; with the decay it settles.

# %%
require("lr_schedule")  # stops here, before any figure, if a question it uses is not written yet
steps_per_epoch = len(train_loader)
TOTAL_STEPS = EPOCHS * steps_per_epoch
WARMUP_STEPS = max(1, TOTAL_STEPS // 10)
plot_lr_schedule(lambda s: cosine_with_warmup(s, TOTAL_STEPS, WARMUP_STEPS, peak_lr=1.0, min_lr=0.1),
                 TOTAL_STEPS)
plt.show()

schedule = lambda s: cosine_with_warmup(s, TOTAL_STEPS, WARMUP_STEPS, peak_lr=1.0, min_lr=0.0)  # noqa: E731
scheduled = {"Muon+AdamW": histories["Muon+AdamW"],
             "Muon+AdamW, warmup+cosine": run("Muon+AdamW (cosine)", muon_adamw, lr_schedule=schedule)}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot_curves(scheduled, key="train_loss", smooth=10, log=True, title="training loss", ax=axes[0])
plot_curves(scheduled, key="lr", title="learning rate of the first group (Muon)", ax=axes[1])
plt.tight_layout()
plt.show()
for name, h in scheduled.items():
    print(f"{name:<28} train loss (last epoch) {last_epoch_loss(h):.5f}   val acc {h.last('val_acc'):.3f}")

# %% [markdown]
# ## 6. muP: learning rates that transfer across widths
#
# Tune a learning rate on a narrow network, widen it, and under the standard parametrisation (SP:
# PyTorch's default init, one learning rate for everything) the old learning rate is now wrong.
# The reason: Adam moves every entry of a weight matrix by about $\eta$, and for a hidden layer
# $h = W x$ with $x \in \mathbb{R}^{n}$ the change $\Delta W x$ sums $n$ such contributions that are
# *correlated* with $x$ (the gradient is built from $x$). So the change of the activations grows like
# $\eta\, n$: wider networks take bigger effective steps, until they blow up.
#
# The maximal-update parametrisation (muP; Yang et al., "Tensor Programs V", arXiv:2203.03466,
# Table 3) scales initialisation and per-layer learning rates with the width so that every layer's
# activations change by $\Theta(1)$ per step, whatever the width. With
# $\texttt{width\_mult} = \texttt{width} / \texttt{base\_width}$ and a learning rate $\eta$ tuned at
# the base width, for **Adam**:
#
# | parameter | shape | init variance | Adam learning rate |
# | --- | --- | --- | --- |
# | input weight (`model.input.weight`) | (width, in) | $1/\text{fan\_in}$ (fan_in fixed) | $\eta$ |
# | every bias | (width,) or (out,) | as in SP | $\eta$ |
# | hidden weights (`model.hidden[i].weight`) | (width, width) | $1/\text{fan\_in}$ | $\eta/\texttt{width\_mult}$ |
# | output weight (`model.output.weight`) | (out, width) | $1/\text{fan\_in}^2$ (or 0) | $\eta/\texttt{width\_mult}$ |
#
# Your function returns *parameter groups* for an Adam optimizer: a list of dicts, each with
# `"params"` (a list of tensors), `"lr"` and a `"name"` for readability. Every parameter of the
# model must appear in exactly one group. At `width == base_width` all groups have learning rate
# $\eta$: muP and SP coincide at the base width.
#
# The initialisation column is not part of the graded function: the experiment below applies it
# (`mup_init_`), by scaling the output weight's default init by $1/\texttt{width\_mult}$
# (variance $\propto 1/(\text{fan\_in}\cdot\texttt{width\_mult}) \propto 1/\text{fan\_in}^2$), which
# leaves the base width unchanged. (Zero-initialising the output layer is the other common choice.)

# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    """Adam parameter groups under muP (Tensor Programs V, Table 3) for shared.models.MLP.

    width_mult = model.width / base_width
        model.input.weight, every bias:   lr
        model.hidden[i].weight:           lr / width_mult
        model.output.weight:              lr / width_mult
    Returns a list of dicts {"name": str, "params": [tensors], "lr": float}; every parameter of the
    model is in exactly one group (empty groups are left out).
    """
    width_mult = model.width / base_width
    # BEGIN SOLUTION
    hidden_ids = {id(layer.weight) for layer in model.hidden}
    output_id = id(model.output.weight)
    groups = {
        "input weight and biases": ([], lr),
        "hidden weights": ([], lr / width_mult),
        "output weight": ([], lr / width_mult),
    }
    for p in model.parameters():
        if id(p) in hidden_ids:
            groups["hidden weights"][0].append(p)
        elif id(p) == output_id:
            groups["output weight"][0].append(p)
        else:  # input weight and all biases: their size does not grow with the width
            groups["input weight and biases"][0].append(p)
    return [{"name": name, "params": params, "lr": group_lr}
            for name, (params, group_lr) in groups.items() if params]
    # END SOLUTION


# %%
check("mup")

# %% [markdown]
# ### Experiment: the coordinate check
#
# The standard sanity check of a muP implementation (Tensor Programs V, Section 7): train networks
# of increasing width for a few Adam steps on the same batch, with the *same* base learning rate,
# and record the mean absolute value of each layer's activations. Under SP they grow with the width;
# under muP they should stay flat. (At initialisation both look the same except for the output
# layer: it is the updates that differ.)

# %%
require("adam", "mup")  # stops here, before any figure, if a question it uses is not written yet
def mup_init_(model, base_width):
    """muP init (Table 3): output weight variance 1/fan_in^2, here the default init scaled by
    1/width_mult, which leaves the model at the base width unchanged. Other layers keep PyTorch's
    default (variance ~ 1/fan_in)."""
    with torch.no_grad():
        model.output.weight.mul_(base_width / model.width)
    return model


def coord_check(parametrisation, widths, base_width, lr=1e-3, steps=10, n_hidden=2):
    """Mean |activation| of every layer after `steps` Adam steps, for each width.
    Returns stats[width_index][layer_index] (layers: input, hidden_1, ..., logits)."""
    x, y = coord_x, coord_y  # the same fixed batch of digits for every width
    stats = []
    for width in widths:
        model = make_model(width=width, n_hidden=n_hidden)
        if parametrisation == "muP":
            mup_init_(model, base_width)
            opt = Adam(mup_param_groups(model, base_width, lr), lr=lr)
        else:
            opt = Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            _, acts = model(x, return_activations=True)
        stats.append([a.abs().mean().item() for a in acts])
    return stats


batches = [batch for _, batch in zip(range(4), train_loader)]  # 4 x 64 = 256 digits
coord_x = torch.cat([x for x, _ in batches]).to(device)
coord_y = torch.cat([y for _, y in batches]).to(device)
WIDTHS = [32, 64] if SMOKE else [64, 128, 256, 512, 1024]
BASE_WIDTH = WIDTHS[0]
coord_stats = {p: coord_check(p, WIDTHS, BASE_WIDTH) for p in ["SP", "muP"]}
plot_coord_check(WIDTHS, coord_stats)
plt.show()
for p, stats in coord_stats.items():
    print(p)
    for width, row in zip(WIDTHS, stats):
        print(f"  width {width:5d}: " + "  ".join(f"{v:8.3f}" for v in row))

# %% [markdown]
# # GRADED: written_mup
# **Reading the coordinate check.** Which activations grow with the width under SP, by roughly what
# factor per doubling of the width, and which stay flat under muP? Explain why in terms of the update
# sizes, and say what this means for tuning the learning rate on a small model. (4 to 6 sentences.)
#
# BEGIN SOLUTION
# Under SP the input layer's activations do not change with the width (its fan-in is the 64
# pixels), but every layer after it grows, and more so deeper in the network: from width 64 to
# 1024 the first hidden layer grows about 4x, the second more than 10x and the logits about 45x,
# so each doubling of the width multiplies the logits by roughly 2 to 4. Adam moves every weight by
# about $\eta$ per step whatever the gradient's size, and these moves are correlated with the
# layer's input (the gradient of $W$ is an outer product with $x$), so $\Delta W x$ adds $n$
# aligned terms and grows like $\eta\, n$; the growth compounds from layer to layer. With one global
# $\eta$, wider networks therefore take effectively larger steps and eventually diverge. Under muP
# the hidden and output learning rates are divided by width_mult, which cancels the factor $n$,
# and the output init shrinks like $1/\text{width}$: the hidden activations are flat across widths
# and the logits stay small and drift only slightly down (their width-dependent initial part
# shrinks). Since every layer's update has the same effect at every width, the learning rate that
# is best for a narrow model stays (close to) best for a wide one: tune on a small proxy and
# transfer the hyperparameters (muTransfer).
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * SGD's momentum buffer starts as the first gradient; Nesterov adds the buffer's next step.
# * Adam's bias correction fixes the zero initialisation of the moments; $\epsilon$ goes after the
#   square root of the corrected second moment; AdamW decays the weights outside the adaptive scaling.
# * Newton-Schulz maps each singular value through an odd polynomial and keeps the singular vectors;
#   Muon uses it to give every direction of a hidden matrix's momentum the same step size.
# * Warmup then cosine decay is the default schedule; state its convention precisely.
# * muP scales hidden and output learning rates (for Adam) by $1/\text{width\_mult}$, and the coordinate
#   check shows activations that no longer depend on the width.

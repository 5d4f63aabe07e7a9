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
# # Basics: backpropagation by hand, gradient checking, and an MLP trained with hand-written SGD
#
# Autograd computes every gradient you will need in this course, so why compute one by hand? Because
# you cannot debug, speed up or invent a layer whose backward pass you could not write yourself, and
# because the tools to check a gradient (finite differences and the relative error) are the ones you
# reach for when a custom layer misbehaves. In this assignment you write the forward and backward
# pass of every piece of a small neural network, check each one numerically right after writing it,
# and train the network on a 2-D classification task with a momentum optimizer you wrote too. No
# autograd anywhere in your code: at the end we train the same network with autograd and
# `torch.optim.SGD` and find the same numbers, to float64 precision.
#
# **Learning goals.** By the end you can
#
# 1. read and write tensor code by its shapes, and use broadcasting instead of loops;
# 2. backpropagate through a computational graph: each node multiplies the upstream gradient by its
#    local derivative;
# 3. compute numerical gradients with centred differences, read a relative error, and say why
#    centred differences beat one-sided ones;
# 4. write the forward and backward passes of an affine layer, a ReLU and a numerically stable
#    softmax cross-entropy loss, and assemble them into a two-layer network with L2 regularisation;
# 5. write SGD with momentum, train the network with it, and watch (and explain) what its hidden
#    units and its decision boundary do as it learns.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after to run the public tests. Only graded cells and cells made only of `import` statements
# run when grading: a graded cell must not use variables defined in experiment cells (it may call
# functions from other graded cells). In every graded cell, **autograd is off limits**:
# `.backward()`, `torch.autograd.grad`, `torch.func` and friends are refused, and the tests check
# that your gradients are computed without them. The experiments are not graded, but you need them
# for the written questions.
#
# **Run time.** At full size the whole notebook took 150 s on a 2-core CPU that other jobs were
# sharing at the time (so an idle laptop should be faster); most of it goes to the training runs of
# section 9 (thousands of small steps; the width, learning-rate and regularisation sweeps alone take a
# third) and to the Python double loop of the warm-up. A GPU does not help at this size: the tensors are
# tiny. Set the environment variable `COURSE_SMOKE=1` before starting Jupyter (or add
# `import os; os.environ["COURSE_SMOKE"] = "1"` to the setup cell) to run every experiment at a tiny
# size (80 s on the same busy machine, most of it starting the kernel, importing torch and drawing).
#
# **Notation.** Shapes use these letters:
#
# | letter | meaning |
# | --- | --- |
# | `N` | batch size (number of examples) |
# | `D` | input features (a 2-D point has `D = 2`; an image is flattened to `D` numbers) |
# | `M` | output features of an affine layer |
# | `H` | hidden units of the two-layer network |
# | `C` | number of classes |
#
# We write $\frac{\partial L}{\partial t}$ as `dt`: a tensor with the shape of `t` holding the
# derivative of the scalar loss $L$ with respect to each entry of `t`.

# %%
import itertools
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
from shared.data import moons, spirals

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
SEED = 0
seed_everything(SEED)
if device.type == "cpu":
    torch.set_num_threads(1)  # our tensors are tiny: a second thread mostly adds synchronisation
F64 = torch.float64
print(f"device={describe_device(device)}  smoke={SMOKE}")

# %% [markdown]
# ## 1. Warm-up: tensors, shapes and broadcasting (not graded)
#
# A tensor has a **shape**, a **dtype** and a **device**. Almost every bug in this assignment shows up
# first as a wrong shape, so we write shapes down in comments (`# (N, D)`) and check them with
# `assert t.shape == ...`.
#
# **Reductions** remove the dimension they reduce: for `X` of shape `(N, D)`, `X.sum(dim=0)` has
# shape `(D,)` (one number per column, summed over the examples) and `X.sum(dim=1)` has shape `(N,)`.
# `keepdim=True` keeps a dimension of size 1 instead, `(1, D)` or `(N, 1)`, which is what you want
# when the result is combined with `X` again.
#
# **Broadcasting.** Elementwise operations between tensors of different shapes line the shapes up
# from the right; a dimension of size 1 (or a missing one) is stretched to match the other tensor:
#
# | `a` | `b` | `a - b` |
# | --- | --- | --- |
# | `(N, D)` | `(D,)` | `(N, D)`: `b` is subtracted from every row |
# | `(N, D)` | `(N, 1)` | `(N, D)`: row `n` of `b` is subtracted from row `n` of `a` |
# | `(N, 1, D)` | `(1, N, D)` | `(N, N, D)`: every pair of rows |
# | `(N, D)` | `(N,)` | an error (`D` and `N` do not line up), unless `N == D`, where it silently does the wrong thing |
#
# The last row is the classic trap: always check the shape of what you subtract.
#
# The cell below computes all pairwise squared distances $\|x_i - x_j\|^2$ between the points of the
# moons data set three ways: a double loop in Python, broadcasting `(N, 1, D) - (1, N, D)`, and the
# expansion $\|x_i\|^2 + \|x_j\|^2 - 2\,x_i \cdot x_j$ that needs only one matrix product.

# %%
X_moons, y_moons = moons(120 if SMOKE else 200, noise=0.1, seed=SEED)
order = y_moons.argsort()  # sort the points by class: the distance matrix shows the two moons as blocks
X_moons, y_moons = X_moons[order].to(F64), y_moons[order]
print("X:", tuple(X_moons.shape), X_moons.dtype, X_moons.device, "  y:", tuple(y_moons.shape), y_moons.dtype)
print("column means X.mean(dim=0):", tuple(X_moons.mean(dim=0).shape), "  row sums X.sum(dim=1):",
      tuple(X_moons.sum(dim=1).shape))


def distances_loop(X):
    N = X.shape[0]
    out = torch.empty(N, N, dtype=X.dtype)
    for i in range(N):
        for j in range(N):
            out[i, j] = ((X[i] - X[j]) ** 2).sum()
    return out


def distances_broadcast(X):
    diff = X[:, None, :] - X[None, :, :]  # (N, 1, D) - (1, N, D) -> (N, N, D)
    return (diff**2).sum(dim=-1)  # (N, N)


def distances_matmul(X):
    sq = (X**2).sum(dim=1)  # (N,)
    return sq[:, None] + sq[None, :] - 2 * X @ X.T  # (N, 1) + (1, N) - (N, N) -> (N, N)


t0 = time.perf_counter()
by_loop = distances_loop(X_moons)  # (N, N): the slow, obviously right answer
print(f"{'loop':>10}: {(time.perf_counter() - t0) * 1e3:8.1f} ms")
for name, fn in [("broadcast", distances_broadcast), ("matmul", distances_matmul)]:
    t0 = time.perf_counter()
    result = fn(X_moons)
    elapsed = time.perf_counter() - t0
    print(f"{name:>10}: {elapsed * 1e3:8.1f} ms   max |difference to the loop| = {(result - by_loop).abs().max():.1e}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].scatter(X_moons[:, 0], X_moons[:, 1], c=y_moons, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
axes[0].set_title("moons (two classes)")
axes[0].set_aspect("equal")
im = axes[1].imshow(distances_matmul(X_moons), cmap="viridis")
axes[1].set_title("squared distances, points sorted by class")
plt.colorbar(im, ax=axes[1])
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The chain rule on a computational graph
#
# The network of this assignment is an affine layer, a ReLU, a second affine layer and a softmax
# cross-entropy loss, with an L2 penalty on the weights:
#
# $$
# a = x W_1 + b_1, \qquad h = \max(a, 0), \qquad s = h W_2 + b_2, \qquad
# L = \frac1N \sum_n -\log \frac{e^{s_{n, y_n}}}{\sum_c e^{s_{n c}}} + \frac{\lambda}{2}\left(\|W_1\|^2 + \|W_2\|^2\right).
# $$
#
# Drawn as a graph (below), each box is an operation; the forward pass computes the values left to
# right, and the backward pass sends **gradients** right to left. Every box only needs to know its
# own *local* rule: given the upstream gradient $\frac{\partial L}{\partial \text{out}}$ (same shape
# as its output) it returns $\frac{\partial L}{\partial \text{in}}$ for each input (same shape as that
# input) by the chain rule,
#
# $$
# \frac{\partial L}{\partial \text{in}} = \frac{\partial L}{\partial \text{out}} \cdot \frac{\partial \text{out}}{\partial \text{in}} .
# $$
#
# A box never builds the Jacobian $\frac{\partial \text{out}}{\partial \text{in}}$ (for an affine layer
# with a batch of 64 and 100 units it would have millions of entries): it computes the product with
# the upstream gradient directly. And a box's forward pass saves, in a **cache**, whatever its
# backward pass will need (the inputs, a mask). This is exactly what autograd does for you, one
# operation at a time.
#
# Two facts about the graph that you will use: a value used twice (here $W_1$ and $W_2$, in their
# layer and in the penalty) receives the **sum** of the gradients flowing back along each use; and
# the gradient of the loss with respect to the loss is 1, where the backward pass starts.

# %%
def draw_graph(ax):
    """The affine - ReLU - affine - softmax-loss graph: values in black (forward), gradients in red (backward)."""
    boxes = {"affine 1": (2.0, 1.0), "ReLU": (4.2, 1.0), "affine 2": (6.4, 1.0), "softmax loss": (8.8, 1.0),
             "L2 penalty": (6.4, -0.6), "+": (10.7, 0.2)}
    for name, (x, y) in boxes.items():
        w = 0.5 if name == "+" else 1.5
        ax.add_patch(plt.Rectangle((x - w / 2, y - 0.3), w, 0.6, fc="#e8eef8", ec="k"))
        ax.text(x, y, name, ha="center", va="center", fontsize=10)
    inputs = {"x": (0.4, 1.35), "W1": (0.4, 1.0), "b1": (0.4, 0.65), "W2": (5.0, 1.75), "b2": (5.6, 1.75),
              "y": (8.8, 1.75)}
    for name, (x, y) in inputs.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=10, weight="bold")
    arrows = [((0.6, 1.35), (1.25, 1.1)), ((0.6, 1.0), (1.25, 1.0)), ((0.6, 0.65), (1.25, 0.9)),
              ((2.75, 1.0), (3.45, 1.0)), ((4.95, 1.0), (5.65, 1.0)), ((5.0, 1.65), (5.9, 1.3)),
              ((5.6, 1.65), (6.2, 1.3)), ((7.15, 1.0), (8.05, 1.0)), ((8.8, 1.65), (8.8, 1.3)),
              ((9.55, 1.0), (10.45, 0.35)), ((7.15, -0.6), (10.45, 0.05)), ((10.95, 0.2), (11.6, 0.2))]
    for start, end in arrows:
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="k"))
    ax.annotate("", xy=(6.0, -0.3), xytext=(2.0, 0.7), arrowprops=dict(arrowstyle="->", color="k", ls=":"))
    ax.annotate("", xy=(6.4, -0.3), xytext=(5.2, 1.6), arrowprops=dict(arrowstyle="->", color="k", ls=":"))
    for x, y, label in [(3.1, 1.15, "a (N, H)"), (5.3, 1.15, "h (N, H)"), (7.6, 1.15, "s (N, C)"), (11.75, 0.2, "L")]:
        ax.text(x, y, label, ha="center", va="bottom", fontsize=9)
    for x, y, label in [(9.95, 0.45, "1"), (7.6, 0.72, "ds = (p - onehot(y)) / N"), (5.3, 0.72, "dh = ds W2^T"),
                        (3.1, 0.72, "da = dh * [a > 0]"), (1.0, 0.2, "dW1 = x^T da + lambda W1"),
                        (8.4, -0.35, "lambda W1, lambda W2")]:
        ax.text(x, y, label, ha="center", va="top", fontsize=8.5, color="C3")
    ax.set_xlim(0, 12.3)
    ax.set_ylim(-1.1, 2.0)
    ax.axis("off")


fig, ax = plt.subplots(figsize=(12, 3.6))
draw_graph(ax)
ax.set_title("forward: values (black); backward: gradients (red); dotted: the weights also feed the penalty")
plt.show()

# %% [markdown]
# **Shapes tell you the formula.** A gradient has the shape of the tensor it belongs to. For the
# affine layer $\text{out} = x W + b$ with $x$ `(N, D)`, $W$ `(D, M)` and upstream `dout` `(N, M)`,
# `dW` must be `(D, M)` and must combine `x` and `dout` linearly: the only product of those two
# with that shape sums over the batch dimension $N$. Work the other two out the same way (and
# convince yourself with one example entry that the result is the chain rule, not just a shape
# coincidence). `db` sums the upstream gradient over the examples: the same bias is used by every
# example, so it collects a gradient from each (the "used many times, gradients add up" rule again).

# %% [markdown]
# ## 3. Numerical gradients: the check for every backward pass
#
# The derivative is a limit; for a small step $h$ we can approximate it by evaluating $f$ twice.
# For the gradient of a scalar function $f$ of a tensor $x$, perturb one entry at a time ($e_i$ is the
# tensor with a one at entry $i$):
#
# $$
# \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}
# \quad \text{(centred difference)}, \qquad \text{error } O(h^2),
# $$
#
# while the one-sided $\big(f(x + h e_i) - f(x)\big)/h$ has error $O(h)$ (expand both in a Taylor
# series: the $h^2$ terms cancel in the centred version). It costs two evaluations of $f$ per entry,
# far too slow to train with, but perfect to *check* a backward pass on a small example.
#
# To compare an analytic gradient $a$ with a numerical one $n$ we use the **relative error**, the
# largest over the entries of
#
# $$
# \text{rel\_error}(a, n) = \max_i \frac{|a_i - n_i|}{\max(10^{-8},\; |a_i| + |n_i|)} ,
# $$
#
# which does not care how large the gradient is (the floor $10^{-8}$ avoids $0/0$ where both are
# zero). CS231n's rule of thumb in float64: around `1e-9` or smaller, the gradient is right; around
# `1e-2` or larger, it is wrong; in between, look closer (kinks like ReLU's at 0 can cause it).
#
# Write `numerical_gradient(f, x, h=1e-5)` and `rel_error(a, b)`. Two details matter:
#
# * **Perturb `x` in place** (`x[idx] = old + h`), then call `f(x)`. We will check the gradient of a
#   whole network with respect to its weights by passing `f = lambda _: model.loss(X, y)[0]`, which
#   ignores its argument and reads the weights from the model: only an in-place change reaches it.
#   Loop over every index of `x` (`itertools.product(*map(range, x.shape))` gives them all, also for
#   a 0-d `x`).
# * **Put every entry back exactly**: save the old value and assign it back. Adding and subtracting
#   $h$ does not return the same float ($0.1 + 10^{-5} - 10^{-5} \ne 0.1$ in floating point), and a
#   gradient check that leaves the weights slightly changed is a nasty surprise.
#
# `f(x)` returns a scalar: a 0-d tensor or a Python float (`float(...)` handles both). Return a tensor
# of `x`'s shape, dtype and device. `rel_error` takes two tensors of the same shape and returns a
# Python float.

# %%
# GRADED: numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of the scalar function f at x, one entry of x at a time.

    grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h), with x perturbed IN PLACE and each entry put
    back to its saved value before the next. f(x) returns a 0-d tensor or a Python float.
    Returns a tensor shaped like x (same dtype and device); x holds its original values afterwards.
    """
    grad = torch.zeros_like(x)
    # BEGIN SOLUTION
    for idx in itertools.product(*(range(n) for n in x.shape)):  # every index, () for a 0-d x
        old = x[idx].item()
        x[idx] = old + h
        f_plus = float(f(x))
        x[idx] = old - h
        f_minus = float(f(x))
        x[idx] = old  # the saved value: exactly what was there
        grad[idx] = (f_plus - f_minus) / (2 * h)
    # END SOLUTION
    return grad


def rel_error(a, b):
    """max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|) over the entries of two same-shaped tensors (a float)."""
    # BEGIN SOLUTION
    a, b = a.to(torch.float64), b.to(torch.float64)
    return ((a - b).abs() / (a.abs() + b.abs()).clamp(min=1e-8)).max().item()
    # END SOLUTION


# %%
check("numerical_gradient")

# %% [markdown]
# ### Experiment: how small should $h$ be?
#
# The gradient of $f(x) = \sum_i \sin(3 x_i)\, x_i^2$ is known in closed form, so we can measure the
# error of each difference formula for step sizes from $10^{-1}$ to $10^{-13}$, in float64 and float32.
# (The one-sided difference is written here for the comparison; it is not part of your answer.)

# %%
require("numerical_gradient")  # stops here, before any figure, if a question it uses is not written yet


def f_demo(x):
    return (torch.sin(3 * x) * x**2).sum()


def grad_demo(x):
    return 3 * torch.cos(3 * x) * x**2 + 2 * x * torch.sin(3 * x)


def forward_difference(f, x, h):
    grad, f0 = torch.zeros_like(x), float(f(x))
    for idx in itertools.product(*(range(n) for n in x.shape)):
        old = x[idx].item()
        x[idx] = old + h
        grad[idx] = (float(f(x)) - f0) / h
        x[idx] = old
    return grad


x_demo = torch.randn(6, generator=torch.Generator().manual_seed(SEED), dtype=F64)
hs = [10.0**-k for k in range(1, 14, 2 if SMOKE else 1)]
curves = {}
for dtype in (F64, torch.float32):
    x_t = x_demo.to(dtype)
    exact = grad_demo(x_demo)
    for name, fn in [("centred", numerical_gradient), ("one-sided", forward_difference)]:
        curves[f"{name}, {str(dtype)[6:]}"] = [(fn(f_demo, x_t, h).to(F64) - exact).abs().max().item() for h in hs]
fig, ax = plt.subplots(figsize=(6.5, 4))
for label, errs in curves.items():
    ax.loglog(hs, [max(e, 1e-17) for e in errs], "o-" if "64" in label else "s--", ms=4, label=label)
ax.set_xlabel("step h")
ax.set_ylabel("max |numerical - exact|")
ax.set_title("finite differences: truncation (right) against rounding (left)")
ax.invert_xaxis()
ax.legend()
plt.show()
for label, errs in curves.items():
    best = min(range(len(hs)), key=lambda i: errs[i])
    print(f"{label:>18}: best h = {hs[best]:.0e} (error {errs[best]:.1e}); at h = 1e-5: {errs[hs.index(1e-5)]:.1e}"
          if 1e-5 in hs else f"{label:>18}: best h = {hs[best]:.0e} (error {errs[best]:.1e})")

# %% [markdown]
# # GRADED: written_gradcheck
# **Why centred differences, and how small should $h$ be?** Read the plot from right to left.
# What are the slopes of the two float64 curves for large $h$, and why (Taylor)? Why do all curves
# turn around and get *worse* as $h$ shrinks further, and why does float32 turn around at a much
# larger $h$ (estimate where, from the machine epsilon $\approx 10^{-16}$ and $10^{-7}$)? Why is
# $h = 10^{-5}$ a good default for float64, and why would you not gradient-check in float32? Finally,
# why might a correct ReLU network still show a relative error around $10^{-6}$ now and then?
# (4 to 6 sentences.)
#
# BEGIN SOLUTION
# For large $h$ the one-sided error falls by 10x per decade of $h$ (slope 1) and the centred error by
# 100x (slope 2): Taylor gives $f(x \pm h) = f \pm h f' + \tfrac{h^2}{2} f'' \pm \tfrac{h^3}{6} f''' + \dots$,
# so the one-sided quotient is off by $\tfrac h2 f''$ while in the centred one the $h^2$ terms cancel,
# leaving $\tfrac{h^2}{6} f'''$. As $h$ shrinks, rounding takes over: $f$ is only known to about
# $\epsilon |f|$, and dividing that by $h$ gives an error $\approx \epsilon |f| / h$ that grows as $h$ falls
# (the left, rising branch). The best $h$ balances the two: for the centred difference
# $h \approx \epsilon^{1/3}$, about $10^{-5}$ in float64 (we measured the best centred error, about
# $2 \times 10^{-9}$, at $h = 10^{-6}$ and the same at $10^{-5}$, while the one-sided difference is
# $9 \times 10^{-5}$ off at $h = 10^{-5}$ and at best $2.5 \times 10^{-7}$, near $h = 10^{-8} \approx \sqrt\epsilon$). In
# float32 ($\epsilon \approx 10^{-7}$) the turn comes at $h \approx 10^{-3}$ with an error near $10^{-3}$,
# and at $h = 10^{-5}$ float32 is off by about $2 \times 10^{-2}$, which would flag a correct gradient as
# wrong: we check in float64. A ReLU network is not differentiable where a pre-activation is exactly 0: if a
# perturbation of $\pm h$ moves some unit across its kink, the centred difference averages two
# different slopes and the relative error of that entry jumps to $10^{-6}$ or worse although the
# backward pass is right (fewer examples, or inputs away from the kinks, make it go away).
# END SOLUTION

# %% [markdown]
# ## 4. The affine layer
#
# $$
# \text{out} = x\, W + b, \qquad x \in \mathbb{R}^{N \times D},\; W \in \mathbb{R}^{D \times M},\; b \in \mathbb{R}^{M},\; \text{out} \in \mathbb{R}^{N \times M} .
# $$
#
# An input with more dimensions, `(N, d1, ..., dk)` (an image, say), is flattened to `(N, D)` with
# `D = d1 * ... * dk` first (use `reshape`, which also works for tensors that are not contiguous in
# memory, e.g. after a transpose; `view` does not). `affine_forward` returns the output and a cache;
# `affine_backward(dout, cache)` returns `(dx, dw, db)`, where **`dx` has the shape of the original
# `x`**, `dw` the shape of `w` and `db` the shape of `b`. Do not modify the inputs or `dout`.

# %%
# GRADED: affine
def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b.

    x: (N, d1, ..., dk) with D = d1 * ... * dk (or simply (N, D)); w: (D, M); b: (M,).
    Returns (out (N, M), cache): the cache holds what affine_backward needs.
    """
    # BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b  # (N, D) @ (D, M) + (M,) -> (N, M)
    cache = (x, w)
    # END SOLUTION
    return out, cache


def affine_backward(dout, cache):
    """dout: (N, M), the upstream gradient dL/dout. Returns (dx shaped like x, dw (D, M), db (M,))."""
    # BEGIN SOLUTION
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)  # (N, M) @ (M, D) -> (N, D) -> x's own shape
    dw = x.reshape(x.shape[0], -1).T @ dout  # (D, N) @ (N, M) -> (D, M): summed over the batch
    db = dout.sum(dim=0)  # (M,): the bias is used by every example
    # END SOLUTION
    return dx, dw, db


# %%
check("affine")

# %% [markdown]
# **Check it numerically.** The output is a matrix, not a scalar, so we check the scalar
# $\sum_{n,m} \text{out}_{nm}\, g_{nm}$ for a *random* upstream gradient $g$: its gradient is exactly
# what `affine_backward(g, cache)` returns. (With $g$ = all ones, a backward pass that mixes up rows
# or columns can still look right.) Note how `f` reads `x`, `w` and `b` from the notebook: your
# in-place perturbation of the tensor being checked is what changes its value. Then a deliberately
# wrong `db` (the mean over the batch instead of the sum) shows what a bug looks like.

# %%
require("affine", "numerical_gradient")
gen = torch.Generator().manual_seed(SEED)
x = torch.randn(4, 3, 2, generator=gen, dtype=F64)  # (N, d1, d2): flattened to D = 6
w = torch.randn(6, 5, generator=gen, dtype=F64)
b = torch.randn(5, generator=gen, dtype=F64)
dout = torch.randn(4, 5, generator=gen, dtype=F64)  # a random upstream gradient
out, cache = affine_forward(x, w, b)
dx, dw, db = affine_backward(dout, cache)
print("out", tuple(out.shape), " dx", tuple(dx.shape), " dw", tuple(dw.shape), " db", tuple(db.shape))
for name, tensor, analytic in [("dx", x, dx), ("dw", w, dw), ("db", b, db)]:
    numeric = numerical_gradient(lambda _: (affine_forward(x, w, b)[0] * dout).sum(), tensor)
    print(f"{name}: relative error {rel_error(analytic, numeric):.1e}")
print(f"a wrong db (mean instead of sum): relative error {rel_error(dout.mean(dim=0), numerical_gradient(lambda _: (affine_forward(x, w, b)[0] * dout).sum(), b)):.1e}")

# %% [markdown]
# ## 5. ReLU
#
# $$
# \text{out} = \max(x, 0) \text{ elementwise}, \qquad
# \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \text{out}} \cdot \mathbb{1}[x > 0] .
# $$
#
# The upstream gradient passes where the input was positive and is blocked elsewhere. At exactly
# $x = 0$ the ReLU has a kink; like torch, we use the gradient 0 there. Any shape works; do not modify
# `x` or `dout` in place (`x.clamp(min=0)` makes a new tensor, `x.clamp_(min=0)` overwrites `x`).

# %%
# GRADED: relu
def relu_forward(x):
    """out = max(x, 0) elementwise; returns (out, cache)."""
    # BEGIN SOLUTION
    out = x.clamp(min=0)
    cache = x
    # END SOLUTION
    return out, cache


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0 (also at exactly x = 0, as torch). Returns dx shaped like x."""
    # BEGIN SOLUTION
    x = cache
    dx = torch.where(x > 0, dout, torch.zeros_like(dout))
    # END SOLUTION
    return dx


# %%
check("relu")

# %%
require("relu", "numerical_gradient")
x = torch.randn(5, 7, generator=gen, dtype=F64)
x = x + 0.1 * x.sign()  # keep every entry at least 0.1 away from the kink at 0 (see the written question)
dout = torch.randn(5, 7, generator=gen, dtype=F64)
dx = relu_backward(dout, relu_forward(x)[1])
numeric = numerical_gradient(lambda _: (relu_forward(x)[0] * dout).sum(), x)
print(f"dx: relative error {rel_error(dx, numeric):.1e}")

# %% [markdown]
# ## 6. The softmax cross-entropy loss
#
# For scores $s \in \mathbb{R}^{N \times C}$ and labels $y_n \in \{0, \dots, C-1\}$ the softmax turns
# each row into probabilities and the loss is the mean negative log-probability of the right class:
#
# $$
# p_{nc} = \frac{e^{s_{nc}}}{\sum_{c'} e^{s_{nc'}}}, \qquad
# L = \frac1N \sum_n -\log p_{n y_n}, \qquad
# \frac{\partial L}{\partial s_{nc}} = \frac{p_{nc} - \mathbb{1}[c = y_n]}{N} .
# $$
#
# (Derive the gradient yourself: write $-\log p_{ny_n} = -s_{ny_n} + \log\sum_{c'} e^{s_{nc'}}$ and
# differentiate each term.)
#
# **Numerical stability.** $e^{1000}$ overflows to `inf` even in float64 (which tops out near
# $e^{709}$), and then `inf / inf = nan`. Subtracting the row maximum changes nothing
# mathematically ($p$ is unchanged by adding a constant to a row) but makes the largest exponent
# $e^0 = 1$. Compute the log-probabilities as $\log p_{nc} = (s_{nc} - m_n) - \log\sum_{c'} e^{s_{nc'} - m_n}$
# (the *log-sum-exp* trick) rather than the log of a probability: with scores 1000 apart a
# probability underflows to exactly 0 and $\log 0 = -\infty$, while the log-sum-exp form gives the
# finite answer. Do not use torch's softmax, log-softmax, logsumexp or cross-entropy here.
#
# `softmax_loss(scores, y)` returns `(loss, dscores)`: the loss as a 0-d tensor (or a Python float),
# `dscores` of shape `(N, C)`. Do not modify `scores`.

# %%
# GRADED: softmax_loss
def softmax_loss(scores, y):
    """Mean softmax cross-entropy and its gradient, stable for scores of any magnitude.

    scores: (N, C); y: (N,) integer labels in [0, C). Returns (loss, dscores (N, C)).
    """
    # BEGIN SOLUTION
    N = scores.shape[0]
    shifted = scores - scores.amax(dim=1, keepdim=True)  # (N, C): every row's max is 0, exp cannot overflow
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # (N, C): log-sum-exp, never log(0)
    rows = torch.arange(N, device=scores.device)
    loss = -log_probs[rows, y].mean()
    dscores = log_probs.exp()  # (N, C): the probabilities p
    dscores[rows, y] -= 1
    dscores /= N  # the gradient of the MEAN over the batch
    # END SOLUTION
    return loss, dscores


# %%
check("softmax_loss")

# %% [markdown]
# **Two sanity checks every deep-learning practitioner runs.** With tiny random scores all classes are
# about equally likely, so the loss must be close to $\log C$ (for 10 classes, 2.30). And scores a
# thousand times larger must still give finite numbers.

# %%
require("softmax_loss", "numerical_gradient")
C = 10
scores = 1e-3 * torch.randn(50, C, generator=gen, dtype=F64)
labels = torch.randint(0, C, (50,), generator=gen)
loss, dscores = softmax_loss(scores, labels)
print(f"loss with tiny scores: {float(loss):.4f}   log(C) = {math.log(C):.4f}")
scores = torch.randn(6, C, generator=gen, dtype=F64)
labels = torch.randint(0, C, (6,), generator=gen)
numeric = numerical_gradient(lambda _: softmax_loss(scores, labels)[0], scores)
print(f"dscores: relative error {rel_error(softmax_loss(scores, labels)[1], numeric):.1e}")
big_loss, big_d = softmax_loss(1000 * scores, labels)
naive = -torch.log(torch.exp(1000 * scores) / torch.exp(1000 * scores).sum(dim=1, keepdim=True))[range(6), labels].mean()
print(f"scores x 1000: loss {float(big_loss):.1f}, finite gradient: {bool(torch.isfinite(big_d).all())}; "
      f"the unshifted formula gives {float(naive)}")

# %% [markdown]
# ## 7. A two-layer network
#
# Now assemble the pieces (CS231n's `TwoLayerNet`): affine, ReLU, affine, softmax loss, with the L2
# penalty $\frac{\lambda}{2}(\|W_1\|^2 + \|W_2\|^2)$ on the weights (not the biases). The parameters
# live in the dict `self.params` under the names `W1` `(D, H)`, `b1` `(H,)`, `W2` `(H, C)`, `b2` `(C,)`:
# the constructor is written for you (small random weights, zero biases, float64).
#
# `loss(X, y=None)`:
#
# * with `y=None`, return the class **scores** `(N, C)` (no softmax: the largest score is the prediction);
# * otherwise return `(loss, grads)`: the data loss plus the penalty, and a dict `grads` with the same
#   keys as `self.params`, each gradient of the same shape as its parameter.
#
# Call your layer functions **by name** (`affine_forward`, `relu_forward`, `softmax_loss`,
# `relu_backward`, `affine_backward`): the tests point those names at trusted versions to grade this
# question on its own. Do not forget the penalty's gradient $\lambda W$ (the weights are used twice,
# see section 2). Read `self.reg` when `loss` is called, and do not modify `self.params` here.

# %%
# GRADED: mlp
class TwoLayerNet:
    """affine - ReLU - affine - softmax cross-entropy, with an L2 penalty on W1 and W2.

    params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), all float64.
    """

    def __init__(self, input_dim, hidden_dim, num_classes, weight_scale=1e-3, reg=0.0, generator=None):
        self.reg = reg
        self.params = {
            "W1": weight_scale * torch.randn(input_dim, hidden_dim, generator=generator, dtype=torch.float64),
            "b1": torch.zeros(hidden_dim, dtype=torch.float64),
            "W2": weight_scale * torch.randn(hidden_dim, num_classes, generator=generator, dtype=torch.float64),
            "b2": torch.zeros(num_classes, dtype=torch.float64),
        }

    def loss(self, X, y=None):
        """X: (N, D); y: (N,) labels or None.

        Returns the scores (N, C) when y is None, else (loss, grads) with
        loss = mean cross-entropy + 0.5 * reg * (||W1||^2 + ||W2||^2) and grads keyed like self.params.
        """
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        # BEGIN SOLUTION
        a, cache1 = affine_forward(X, W1, b1)  # (N, H)
        hidden, cache_relu = relu_forward(a)  # (N, H)
        scores, cache2 = affine_forward(hidden, W2, b2)  # (N, C)
        if y is None:
            return scores
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * ((W1 * W1).sum() + (W2 * W2).sum())
        dhidden, dW2, db2 = affine_backward(dscores, cache2)  # (N, H), (H, C), (C,)
        da = relu_backward(dhidden, cache_relu)  # (N, H)
        _, dW1, db1 = affine_backward(da, cache1)  # (D, H), (H,)
        grads = {"W1": dW1 + self.reg * W1, "b1": db1, "W2": dW2 + self.reg * W2, "b2": db2}
        return loss, grads
        # END SOLUTION


# %%
check("mlp")

# %% [markdown]
# ### Gradient check of the whole network, and the same network in autograd
#
# The classic check: every parameter's gradient against `numerical_gradient`, with the
# regularisation on. Then the same computation in the language of the rest of the course: an
# `nn.Sequential` with the same weights (`nn.Linear` stores its weight as `(out, in)`, the transpose of
# ours), `F.cross_entropy` and `loss.backward()`.

# %%
require("mlp", "numerical_gradient")
N_chk, D_chk, H_chk, C_chk = 7, 5, 10, 3
model = TwoLayerNet(D_chk, H_chk, C_chk, weight_scale=0.5, reg=0.1, generator=torch.Generator().manual_seed(SEED))
for name in ("b1", "b2"):  # nonzero biases make the check stricter
    model.params[name] += 0.1 * torch.randn(model.params[name].shape, generator=gen, dtype=F64)
X_chk = torch.randn(N_chk, D_chk, generator=gen, dtype=F64)
y_chk = torch.randint(0, C_chk, (N_chk,), generator=gen)
loss, grads = model.loss(X_chk, y_chk)
print(f"loss {float(loss):.6f}")
for name in model.params:
    numeric = numerical_gradient(lambda _: model.loss(X_chk, y_chk)[0], model.params[name])
    print(f"  {name}: relative error {rel_error(grads[name], numeric):.1e}")

net = nn.Sequential(nn.Linear(D_chk, H_chk), nn.ReLU(), nn.Linear(H_chk, C_chk)).double()
with torch.no_grad():
    net[0].weight.copy_(model.params["W1"].T)
    net[0].bias.copy_(model.params["b1"])
    net[2].weight.copy_(model.params["W2"].T)
    net[2].bias.copy_(model.params["b2"])
torch_loss = F.cross_entropy(net(X_chk), y_chk) + 0.5 * model.reg * (net[0].weight.square().sum() + net[2].weight.square().sum())
torch_loss.backward()
torch_grads = {"W1": net[0].weight.grad.T, "b1": net[0].bias.grad, "W2": net[2].weight.grad.T, "b2": net[2].bias.grad}
print(f"autograd: |loss difference| = {abs(float(loss) - torch_loss.item()):.1e}; max |gradient difference| = "
      f"{max((grads[k] - torch_grads[k]).abs().max().item() for k in grads):.1e}")

# %% [markdown]
# ## 8. SGD with momentum
#
# Gradient descent steps against the gradient, $w \leftarrow w - \eta\, \nabla L$. **Momentum** keeps a
# velocity $v$, a decaying sum of past steps, and moves along it:
#
# $$
# v \leftarrow \mu\, v - \eta\, \nabla L, \qquad w \leftarrow w + v ,
# $$
#
# with momentum $\mu$ (0.9 is the usual choice) and learning rate $\eta$, and $v = 0$ at the start. When
# successive gradients agree, $v$ builds up to $-\frac{\eta}{1 - \mu} \nabla L$, ten times the plain step
# for $\mu = 0.9$; when they alternate in sign, they cancel.
#
# This is CS231n's convention. `torch.optim.SGD` writes the same method differently: it keeps a buffer
# $b \leftarrow \mu\, b + \nabla L$ (starting from the first gradient) and steps $w \leftarrow w - \eta\, b$.
# With a constant $\eta$ the two produce exactly the same trajectory ($v = -\eta\, b$, check it), but
# they part ways when $\eta$ changes during training: our velocity remembers the old learning rate,
# torch's buffer is rescaled by the new one at once. We will see both below.
#
# Write `sgd_momentum(w, dw, config=None)` in CS231n's functional style: the per-parameter state lives
# in the dict `config`, with the keys `learning_rate` (default `1e-2`), `momentum` (default `0.9`) and
# `velocity` (zeros like `w` on first use). Return `(next_w, config)`, with the new velocity stored in
# `config["velocity"]`; leave `w` itself unchanged (make a new tensor). The defaults are filled in for you.

# %%
# GRADED: sgd_momentum
def sgd_momentum(w, dw, config=None):
    """One step of SGD with momentum: v = momentum * v - learning_rate * dw; next_w = w + v.

    config: learning_rate (default 1e-2), momentum (default 0.9), velocity (zeros like w at first).
    Returns (next_w, config) with config["velocity"] the new velocity; w is left unchanged.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    # BEGIN SOLUTION
    v = config.get("velocity")
    if v is None:
        v = torch.zeros_like(w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    # END SOLUTION
    return next_w, config


# %%
check("sgd_momentum")

# %% [markdown]
# ### Experiment: a ravine
#
# The quadratic $f(w) = \tfrac12 (w_1^2 + 100\, w_2^2)$ is 100 times steeper across its valley ($w_2$)
# than along it ($w_1$), like the loss surface of a badly conditioned network. Gradient descent is
# stable only for $\eta < 2/100$ (the steep direction), and at such a learning rate it crawls along the
# shallow one. We run your `sgd_momentum` with $\mu = 0$ (plain gradient descent) and $\mu = 0.9$ from the
# same start, both with $\eta = 0.018$.

# %%
require("sgd_momentum")
curv = torch.tensor([1.0, 100.0], dtype=F64)  # the Hessian's diagonal


def ravine_run(momentum, lr=0.018, steps=60 if SMOKE else 150):
    w, config, path = torch.tensor([-9.0, 1.0], dtype=F64), {"learning_rate": lr, "momentum": momentum}, []
    for _ in range(steps):
        path.append(w)
        w, config = sgd_momentum(w, curv * w, config)  # the gradient of f is curv * w
    return torch.stack(path)


paths = {"plain gradient descent (mu = 0)": ravine_run(0.0), "momentum (mu = 0.9)": ravine_run(0.9)}
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
g1, g2 = torch.meshgrid(torch.linspace(-10, 3, 200, dtype=F64), torch.linspace(-1.6, 1.6, 200, dtype=F64), indexing="xy")
axes[0].contour(g1, g2, 0.5 * (g1**2 + 100 * g2**2), levels=20, cmap="Greys", linewidths=0.6)
for (label, path), color in zip(paths.items(), ["C0", "C1"]):
    axes[0].plot(path[:40, 0], path[:40, 1], "o-", ms=2.5, lw=1, color=color, label=label + " (first 40 steps)")
    axes[1].semilogy([0.5 * float((curv * p * p).sum()) for p in path], color=color, label=label)
axes[0].plot(0, 0, "k*", ms=10)
axes[0].set_title("f(w) = (w1^2 + 100 w2^2) / 2, learning rate 0.018")
axes[0].legend(fontsize=8)
axes[1].set_xlabel("step")
axes[1].set_ylabel("f(w)")
axes[1].legend()
plt.show()
for label, path in paths.items():
    print(f"{label}: f after {len(path)} steps = {0.5 * float((curv * path[-1] ** 2).sum()):.1e}")

# %% [markdown]
# ## 9. Training: one step of minibatch SGD with momentum
#
# The last graded piece is one training step (what CS231n's `Solver` does in its loop): compute the
# loss and gradients of a minibatch with `model.loss(X, y)`, then update **every** parameter with
# `sgd_momentum`, each with its **own** config dict (each parameter has its own velocity):
#
# * `configs` maps a parameter's name to its config; pass `configs.get(name)` (None the first time, if
#   the caller has not set one up) and store the config `sgd_momentum` returns back in `configs[name]`;
# * store the new parameter in `model.params[name]`; look gradients up by name (`grads[name]`);
# * return the loss **before** the update, as a Python float.
#
# Call `sgd_momentum` and `model.loss` by name and through the model: the tests hand you other models
# and trusted optimizers to grade this question on its own. A hidden test also trains your
# `TwoLayerNet` with your `sgd_momentum` through your `train_step` on the spirals below, and checks the
# accuracy on held-out points.

# %%
# GRADED: train
def train_step(model, X, y, configs):
    """One SGD-with-momentum step on every parameter of model (a TwoLayerNet or anything with .params and .loss).

    configs: dict parameter name -> that parameter's sgd_momentum config (a missing name starts from None).
    Returns the loss before the update, as a Python float.
    """
    # BEGIN SOLUTION
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        model.params[name], configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name))
    return float(loss)
    # END SOLUTION


# %%
check("train")

# %% [markdown]
# ### Experiment: the spirals, with and without momentum
#
# Three interleaved spiral arms (600 points for training, 600 held out): no straight line separates
# them, so a linear classifier is stuck near chance, and the hidden layer has to bend the decision
# boundary. We train a `TwoLayerNet` with 64 hidden units by minibatch SGD (batches of 64), once without
# and once with momentum, and draw the decision boundary (the predicted class at every point of the
# plane) as training goes.

# %%
require("mlp", "sgd_momentum", "train")
X_train, y_train = spirals(600, classes=3, noise=0.2, seed=SEED)
X_val, y_val = spirals(600, classes=3, noise=0.2, seed=SEED + 1)
X_train, X_val = X_train.to(F64).to(device), X_val.to(F64).to(device)
y_train, y_val = y_train.to(device), y_val.to(device)
STEPS = 150 if SMOKE else 2000
SNAPSHOTS = [0, 50, 200, 600, STEPS] if not SMOKE else [0, 50, STEPS]


def accuracy(model, X, y):
    return (model.loss(X).argmax(dim=1) == y).double().mean().item()


def fit(hidden=64, lr=0.1, momentum=0.9, reg=1e-4, steps=STEPS, batch=64, desc="training", snapshots=()):
    """Train a fresh TwoLayerNet on the spirals; returns (model, history, {step: params at that step})."""
    model = TwoLayerNet(2, hidden, 3, weight_scale=1.0, reg=reg, generator=torch.Generator().manual_seed(SEED))
    model.params = {k: v.to(device) for k, v in model.params.items()}
    model.params["W1"] /= math.sqrt(2)  # scale 1/sqrt(fan_in): unit-variance pre-activations (He et al.)
    model.params["W2"] *= math.sqrt(2 / hidden)
    configs = {name: {"learning_rate": lr, "momentum": momentum} for name in model.params}
    batches = torch.Generator().manual_seed(SEED + 2)
    history, saved = {"loss": [], "step": [], "val_acc": []}, {}
    for step in (bar := tqdm(range(steps + 1), desc=desc, mininterval=1.0, leave=False)):
        if step in snapshots:
            saved[step] = {k: v.clone() for k, v in model.params.items()}
        if step % 50 == 0 or step == steps:
            history["step"].append(step)
            history["val_acc"].append(accuracy(model, X_val, y_val))
        if step == steps:
            break
        idx = torch.randint(0, X_train.shape[0], (batch,), generator=batches).to(device)
        loss = train_step(model, X_train[idx], y_train[idx], configs)
        history["loss"].append(loss)
        if not math.isfinite(loss):
            break
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
    return model, history, saved


def draw_boundary(params, ax, X=X_train, y=y_train, title=None, hidden_lines=False):
    """The predicted class over the plane (a TwoLayerNet with these params), the points on top."""
    g1, g2 = torch.meshgrid(torch.linspace(-1.2, 1.2, 150, dtype=F64), torch.linspace(-1.2, 1.2, 150, dtype=F64),
                            indexing="xy")
    probe = TwoLayerNet(2, params["W1"].shape[1], 3)
    probe.params = params
    grid = torch.stack([g1.flatten(), g2.flatten()], dim=1).to(device)
    pred = probe.loss(grid).argmax(dim=1).reshape(g1.shape).cpu()
    ax.contourf(g1, g2, pred, levels=[-0.5, 0.5, 1.5, 2.5], cmap="brg", alpha=0.25)
    ax.scatter(X[:, 0].cpu(), X[:, 1].cpu(), c=y.cpu(), cmap="brg", s=5)
    if hidden_lines:  # where each hidden unit switches on: x . W1[:, j] + b1[j] = 0
        W1, b1 = params["W1"].cpu(), params["b1"].cpu()
        t = torch.linspace(-1.5, 1.5, 2, dtype=F64)
        for j in range(W1.shape[1]):
            w_, b_ = W1[:, j], b1[j]
            if w_[1].abs() > w_[0].abs():
                ax.plot(t, -(b_ + w_[0] * t) / w_[1], "k-", lw=0.6, alpha=0.7)
            else:
                ax.plot(-(b_ + w_[1] * t) / w_[0], t, "k-", lw=0.6, alpha=0.7)
    ax.set_xlim(-1.2, 1.2)
    ax.set_ylim(-1.2, 1.2)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


t0 = time.perf_counter()
runs = {}
for label, mu in [("SGD", 0.0), ("SGD + momentum 0.9", 0.9)]:
    runs[label] = fit(momentum=mu, desc=label, snapshots=SNAPSHOTS)
print(f"two runs of {STEPS} steps in {time.perf_counter() - t0:.1f} s")
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for label, (model, history, _) in runs.items():
    losses = torch.tensor(history["loss"])
    smooth = torch.nn.functional.avg_pool1d(losses[None, None], 25, stride=1)[0, 0] if len(losses) > 25 else losses
    axes[0].plot(smooth, label=label)
    axes[1].plot(history["step"], history["val_acc"], "o-", ms=3, label=label)
    print(f"{label:>20}: final training loss {history['loss'][-1]:.3f}, held-out accuracy {history['val_acc'][-1]:.3f}")
axes[0].set_xlabel("step")
axes[0].set_ylabel("training loss (smoothed)")
axes[0].set_yscale("log")
axes[1].axhline(1 / 3, color="grey", ls="--", lw=0.8, label="chance")
axes[1].set_xlabel("step")
axes[1].set_ylabel("held-out accuracy")
for ax in axes:
    ax.legend()
plt.show()

fig, axes = plt.subplots(2, len(SNAPSHOTS), figsize=(2.6 * len(SNAPSHOTS), 5.4))
for row, (label, (_, _, saved)) in enumerate(runs.items()):
    for col, step in enumerate(SNAPSHOTS):
        draw_boundary(saved[step], axes[row, col], title=f"{label}\nstep {step}" if col == 0 else f"step {step}")
plt.suptitle("the decision boundary as training goes")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Experiment: what the hidden units learn
#
# Hidden unit $j$ computes $\max(0,\, x \cdot W_1[:, j] + b_1[j])$: zero on one side of the line
# $x \cdot W_1[:, j] + b_1[j] = 0$ and a ramp rising on the other side. Each score is a weighted sum of
# these ramps plus a bias, so the scores are piecewise linear in $x$ and can only bend where some unit
# switches on or off. Below, a narrow network with 8 hidden units: its decision boundary with each
# unit's line drawn in, and the activation of every unit over the plane.

# %%
require("mlp", "sgd_momentum", "train")
narrow, narrow_history, _ = fit(hidden=8, desc="8 hidden units")
print(f"8 hidden units: held-out accuracy {narrow_history['val_acc'][-1]:.3f}")
fig = plt.figure(figsize=(13, 4.2))
ax = fig.add_subplot(1, 3, 1)
draw_boundary(narrow.params, ax, title="8 hidden units: boundary and the units' lines", hidden_lines=True)
g1, g2 = torch.meshgrid(torch.linspace(-1.2, 1.2, 100, dtype=F64), torch.linspace(-1.2, 1.2, 100, dtype=F64),
                        indexing="xy")
grid = torch.stack([g1.flatten(), g2.flatten()], dim=1).to(device)
acts = torch.relu(grid @ narrow.params["W1"] + narrow.params["b1"]).cpu()  # (R*R, 8)
for j in range(8):
    ax = fig.add_subplot(2, 6, 3 + j + (2 if j >= 4 else 0))
    ax.imshow(acts[:, j].reshape(g1.shape), origin="lower", extent=(-1.2, 1.2, -1.2, 1.2), cmap="magma")
    ax.set_title(f"unit {j}: |W2| = {narrow.params['W2'][j].norm():.1f}", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Experiment: width, learning rate and regularisation
#
# Three small sweeps, each changing one thing from the runs above (64 units, $\eta = 0.1$, $\mu = 0.9$,
# $\lambda = 10^{-4}$): the number of hidden units, the learning rate, and the regularisation strength (1000 steps each).

# %%
require("mlp", "sgd_momentum", "train")
widths = [2, 8, 64] if SMOKE else [2, 4, 8, 32, 128]
lrs = [0.01, 0.1, 1.0] if SMOKE else [0.003, 0.03, 0.3, 1.0, 3.0]
regs = [0.0, 0.1] if SMOKE else [0.0, 1e-3, 1e-2, 3e-2, 0.1]
sweep_steps = 100 if SMOKE else 1000
t0 = time.perf_counter()
width_runs = {h: fit(hidden=h, steps=sweep_steps, desc=f"H = {h}") for h in widths}
lr_runs = {lr: fit(lr=lr, steps=sweep_steps, desc=f"lr = {lr}") for lr in lrs}
reg_runs = {r: fit(reg=r, steps=sweep_steps, desc=f"reg = {r}") for r in regs}
print(f"{len(widths) + len(lrs) + len(regs)} runs of {sweep_steps} steps in {time.perf_counter() - t0:.1f} s")
print("held-out accuracy  width:", {h: round(r[1]["val_acc"][-1], 3) for h, r in width_runs.items()})
print("                   learning rate:", {lr: round(r[1]["val_acc"][-1], 3) for lr, r in lr_runs.items()})
print("                   reg:", {r: round(run[1]["val_acc"][-1], 3) for r, run in reg_runs.items()},
      " ||W||:", {r: round(float(run[0].params["W1"].square().sum() + run[0].params["W2"].square().sum()) ** 0.5, 1)
                   for r, run in reg_runs.items()})

fig, axes = plt.subplots(1, len(widths), figsize=(2.6 * len(widths), 2.9))
for ax, (h, (m, hist, _)) in zip(axes, width_runs.items()):
    draw_boundary(m.params, ax, title=f"H = {h}: held-out {hist['val_acc'][-1]:.2f}")
plt.suptitle("width")
plt.tight_layout()
plt.show()

fig, ax = plt.subplots(figsize=(6.5, 3.6))
for lr, (_, hist, _) in lr_runs.items():
    losses = torch.tensor(hist["loss"]).clamp(max=10)
    ax.plot(torch.nn.functional.avg_pool1d(losses[None, None], 25, stride=1)[0, 0] if len(losses) > 25 else losses,
            label=f"lr = {lr}: held-out {hist['val_acc'][-1]:.2f}")
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("training loss (smoothed, clipped at 10)")
ax.set_title("learning rate (momentum 0.9)")
ax.legend(fontsize=8)
plt.show()

fig, axes = plt.subplots(1, len(regs), figsize=(2.6 * len(regs), 2.9))
for ax, (r, (m, hist, _)) in zip(axes, reg_runs.items()):
    norm = float(m.params["W1"].square().sum() + m.params["W2"].square().sum()) ** 0.5
    draw_boundary(m.params, ax, title=f"reg = {r}: held-out {hist['val_acc'][-1]:.2f}\n||W|| = {norm:.1f}")
plt.suptitle("regularisation")
plt.tight_layout()
plt.show()

# %% [markdown]
# # GRADED: written_hidden_units
# **What do the hidden units learn?** Using the 8-unit plots, describe what a single hidden unit
# computes over the plane and how the decision boundary is built from the units (where can it bend?).
# What happens with 2 hidden units, and why do more units help (read the held-out accuracies of the
# width sweep)? What did regularisation do to the weights' norm and to the boundary, and at which
# strength did it start to hurt? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# Each hidden unit is a ramp over a half-plane: zero on one side of its line
# $x \cdot W_1[:, j] + b_1[j] = 0$ and growing linearly with the distance from the line on the other
# side (the activation images show exactly that: a dark half and a bright gradient), and the units
# with the largest $\|W_2[j]\|$ matter most. The scores are weighted sums of these ramps, so they are
# piecewise linear and the decision boundary is made of straight pieces that can only bend on the
# units' lines: in the 8-unit plot the boundary turns where the lines cross the arms, and the lines
# crowd around the centre, where the arms meet and the classes change fastest (that network reached
# 0.995 held out after 2000 steps). With 2 units there are only two lines, the plane is cut into at
# most four linear pieces and the spirals are out of reach (0.54 held out in the 1000-step sweep);
# 4 units do a little better (0.68), 8 units reach 0.98 and 32 or 128 units 0.998, because every extra
# unit is one more place where the boundary can bend to follow the arms (and extra units also make
# the optimisation easier). Regularisation shrinks the weights (the norm fell from about 22 with no
# penalty to 16 at $10^{-3}$, 7 at $10^{-2}$ and about 1 at 0.1) and makes the boundary smoother and
# rounder; up to about $10^{-3}$ it costs nothing (0.995), at $10^{-2}$ the boundary already cuts
# through the outer arms (0.81) and from 0.03 on the network underfits (about 0.6): the penalty then
# wins over fitting the data.
# END SOLUTION

# %% [markdown]
# ### Experiment: your network against autograd and `torch.optim.SGD`
#
# The same network as an `nn.Sequential` in float64 with the same starting weights, trained on the
# same minibatches with `loss.backward()` and `torch.optim.SGD(momentum=0.9)` (weight decay $\lambda$
# on the weights only, which is the gradient of our penalty). With a constant learning rate, the two
# trajectories must agree to rounding. Then we divide the learning rate by 10 halfway through: torch's
# buffer is rescaled by the new rate at once, while your velocity still carries steps taken at the old
# one, so the trajectories part.

# %%
require("mlp", "sgd_momentum", "train")


def compare_with_torch(steps=40 if SMOKE else 300, lr=0.1, reg=1e-3, drop_at=None):
    """Max |weight difference| between the hand-written and the autograd/torch.optim run, per step."""
    model = TwoLayerNet(2, 32, 3, weight_scale=0.5, reg=reg, generator=torch.Generator().manual_seed(SEED))
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 3)).double()
    with torch.no_grad():
        for layer, k in [(0, "1"), (2, "2")]:
            net[layer].weight.copy_(model.params["W" + k].T)
            net[layer].bias.copy_(model.params["b" + k])
    net, model.params = net.to(device), {k: v.to(device) for k, v in model.params.items()}
    opt = torch.optim.SGD([{"params": [net[0].weight, net[2].weight], "weight_decay": reg},
                           {"params": [net[0].bias, net[2].bias], "weight_decay": 0.0}], lr=lr, momentum=0.9)
    configs = {name: {"learning_rate": lr, "momentum": 0.9} for name in model.params}
    batches, diffs = torch.Generator().manual_seed(SEED + 3), []
    for step in range(steps):
        if step == drop_at:
            for cfg in configs.values():
                cfg["learning_rate"] = lr / 10
            for group in opt.param_groups:
                group["lr"] = lr / 10
        idx = torch.randint(0, X_train.shape[0], (64,), generator=batches).to(device)
        train_step(model, X_train[idx], y_train[idx], configs)
        opt.zero_grad()
        F.cross_entropy(net(X_train[idx]), y_train[idx]).backward()
        opt.step()
        diffs.append(max((model.params["W1"] - net[0].weight.T).abs().max().item(),
                         (model.params["W2"] - net[2].weight.T).abs().max().item()))
    return diffs


same = compare_with_torch()
steps_total = len(same)
dropped = compare_with_torch(drop_at=steps_total // 2)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.semilogy([max(d, 1e-17) for d in same], label="constant learning rate")
ax.semilogy([max(d, 1e-17) for d in dropped], label=f"learning rate / 10 at step {steps_total // 2}")
ax.set_xlabel("step")
ax.set_ylabel("max |W (yours) - W (torch)|")
ax.set_title("hand-written backprop + sgd_momentum vs autograd + torch.optim.SGD")
ax.legend()
plt.show()
print(f"constant lr: largest difference over {steps_total} steps {max(same):.1e}; "
      f"after the drop: {dropped[-1]:.1e}")

# %% [markdown]
# # GRADED: written_momentum
# **Why does momentum help?** In the ravine, why must plain gradient descent use a small learning rate,
# and what does that do to its progress along the valley? What does the velocity do in each of the two
# directions (read the zig-zag and the speed along $w_1$), and how much faster did momentum get to a
# given $f$? Did momentum help on the spirals (compare the two loss curves and the boundaries at the
# same step)? Finally, the comparison with `torch.optim.SGD`: how close were the two runs with a
# constant learning rate, what happened after the learning-rate drop, and why? (5 to 7 sentences.)
#
# BEGIN SOLUTION
# Plain gradient descent multiplies the error along each direction by $1 - \eta\,\lambda_i$ per step, so
# it diverges across the valley unless $\eta < 2/100$; at $\eta = 0.018$ the steep direction already
# over-shoots and flips sign every step (factor $1 - 1.8 = -0.8$), while along the valley the error
# shrinks by only $1 - 0.018 = 0.982$ per step: after 150 steps $f$ had only fallen from 90.5 to 0.18.
# With $\mu = 0.9$ the velocity accumulates the consistent gradient along $w_1$ (up to $1/(1-\mu) = 10$
# times the plain step), while across the valley the alternating gradients largely cancel in it, so
# the path rolls down the valley in long strides with a damped oscillation: momentum was below the
# plain run's final $f$ after about 60 steps and ended at $1.4 \times 10^{-5}$, four orders of
# magnitude lower. On the spirals ($\eta = 0.1$) momentum helped as well: its loss curve drops much
# earlier and its boundary follows the arms at steps where plain SGD's is still coarse; after 2000
# steps it had a training loss of 0.04 and 0.998 held out against 0.15 and 0.98 for plain SGD. Against
# autograd and `torch.optim.SGD`, with a constant learning rate the weights agreed to $2 \times 10^{-15}$
# over all 300 steps, the same trajectory in float64 since $v = -\eta\, b$ exactly. After the learning
# rate dropped to 0.01 at step 150 they parted (by about $4 \times 10^{-2}$ at the end): torch's step
# $-\eta_{new}\, b$ rescales the whole buffer, including the memory of old gradients, by the new rate at
# once, while our velocity still holds steps taken with $\eta = 0.1$ and lets them decay only by $\mu$
# per step, so the two are different algorithms as soon as $\eta$ changes.
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * Backpropagation is the chain rule applied box by box: each operation turns the upstream gradient
#   into gradients for its inputs with a local rule, using what its forward pass cached; shapes tell
#   you most of the formula (a gradient has the shape of its tensor).
# * Centred differences are accurate to $O(h^2)$; in float64 with $h = 10^{-5}$ a correct gradient has a
#   relative error around $10^{-9}$ or below, a wrong one around $10^{-2}$. Perturb in place, restore exactly.
# * Affine: `dx = dout W^T`, `dW = x^T dout`, `db` = the sum over the batch. ReLU passes gradients where
#   the input was positive. Softmax cross-entropy: shift by the row max, use log-sum-exp, and the
#   gradient is $(p - \text{onehot}(y)) / N$.
# * A two-layer ReLU network draws piecewise-linear boundaries that bend on its hidden units' lines;
#   width adds bends, L2 regularisation smooths them.
# * Momentum speeds up consistent directions and damps oscillating ones. CS231n's velocity and
#   torch's buffer give the same trajectory for a constant learning rate and differ when it changes.

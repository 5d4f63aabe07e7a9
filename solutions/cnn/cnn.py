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
# # Convolutional networks: convolution, pooling, normalisation, residual blocks and a U-Net
#
# Convolutional networks see images through small filters slid over every position: the same few
# weights detect an edge wherever it is. In this assignment you write the layers a CNN is made of
# from their definitions (convolution, max pooling, batch normalisation, dropout), a data
# augmentation, a ResNet block and a U-Net, and you train them on small offline data sets.
#
# **Learning goals.** By the end you can
#
# 1. compute a convolution from its definition and as one matrix multiplication (im2col with `unfold`),
#    predict output sizes, and explain receptive fields;
# 2. implement max pooling, batch normalisation (train and eval behaviour, running statistics) and
#    inverted dropout, and say why the last two behave differently in training and evaluation;
# 3. write a random-crop-and-flip augmentation driven by an explicit random generator;
# 4. build a residual block, see the *degradation problem* of deep plain networks and how residual
#    connections remove it;
# 5. build a U-Net with skip connections and train it to segment images.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write your
# code between the lines the template marks, keep the signatures, and run `check("<question>")` right
# after to run the public tests. Only graded cells and cells made only of `import` statements run when
# grading, so a graded cell must not rely on variables defined in experiment cells. The experiments
# (training runs, plots) are not graded but you need them to answer the written questions.
#
# **Running time.** The whole notebook ran in 14 s on a recent 2-core CPU (allow a minute on an older
# laptop; a GPU is not needed). Set the environment variable `COURSE_SMOKE=1` before starting Jupyter to run every experiment
# at a tiny size in seconds (the numbers are then meaningless, but every cell runs).
#
# **Data.** Everything is offline: scikit-learn's 8x8 handwritten digits (1,797 images) and synthetic
# shapes. If a local copy of MNIST exists (`data/MNIST` or the directory in `$MNIST_ROOT`) the
# feature-map section uses it; nothing is ever downloaded.
#
# **Notation.** Shapes use these letters:
#
# | letter | meaning |
# | --- | --- |
# | `N` | batch size |
# | `C`, `C_in`, `C_out` | channels |
# | `H`, `W` | height and width of an image or feature map |
# | `kH`, `kW` | kernel height and width |
# | `L` | number of sliding-window positions, `H_out * W_out` |

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
from shared.data import digits_tensors
from shared.plot import plot_curves
from shared.train import History, evaluate

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
SEED = 0
seed_everything(SEED)
print(f"device={describe_device(device)}  smoke={SMOKE}")


def digits_images(seed=0):
    """The digits as (N, 1, 8, 8) images in [0, 1], split into train and validation tensors."""
    train_set, val_set = digits_tensors(seed=seed)
    xt, yt = train_set.tensors
    xv, yv = val_set.tensors
    return xt.reshape(-1, 1, 8, 8), yt, xv.reshape(-1, 1, 8, 8), yv


X_TRAIN, Y_TRAIN, X_VAL, Y_VAL = digits_images()
if SMOKE:  # a few batches are enough to see every cell run
    X_TRAIN, Y_TRAIN, X_VAL, Y_VAL = X_TRAIN[:128], Y_TRAIN[:128], X_VAL[:64], Y_VAL[:64]
print(f"digits: train {tuple(X_TRAIN.shape)}, validation {tuple(X_VAL.shape)}")

# %% [markdown]
# ## 1. Convolution, from loops to one matrix multiplication
#
# A convolutional layer (really a *cross-correlation*: the kernel is not flipped) computes, for every
# output channel $o$ and position $(i, j)$,
#
# $$
# y_{n,o,i,j} = b_o + \sum_{c=0}^{C_\text{in}-1}\sum_{u=0}^{k_H-1}\sum_{v=0}^{k_W-1}
#   w_{o,c,u,v}\; \tilde x_{n,c,\,s i + u,\, s j + v},
# $$
#
# where $\tilde x$ is the input zero-padded by $p$ pixels on **all four sides** and $s$ is the stride.
# The output has
#
# $$
# H_\text{out} = \Big\lfloor \frac{H + 2p - k_H}{s} \Big\rfloor + 1, \qquad
# W_\text{out} = \Big\lfloor \frac{W + 2p - k_W}{s} \Big\rfloor + 1
# $$
#
# positions (windows that would stick out of the padded image are dropped: the floor).
#
# **im2col.** Six nested loops are slow in Python. Instead, copy every $C_\text{in} \times k_H \times k_W$
# window into one column of a matrix: `F.unfold(x, (kH, kW), padding=p, stride=s)` returns
# `(N, C_in*kH*kW, L)` with $L = H_\text{out} W_\text{out}$, its rows ordered like
# `weight.reshape(C_out, -1)`'s columns (channel, then kernel row, then kernel column). The whole
# convolution is then one matrix product `(C_out, C_in*kH*kW) @ (N, C_in*kH*kW, L) -> (N, C_out, L)`,
# reshaped to `(N, C_out, H_out, W_out)`. This is how early GPU libraries (Caffe, cuDNN's first
# algorithms) computed convolutions: it trades memory (each pixel is copied up to $k_H k_W$ times) for
# a matrix multiplication, the operation hardware is best at.
#
# Write `conv2d` with `F.conv2d`'s semantics for the inputs stated (stride and padding are Python
# ints, no dilation, no groups). Gradients must flow through it, and it must work for any float
# dtype and device. `F.conv2d`, `torch.conv2d`, `nn.Conv2d`, `torch.convolution` and the
# transposed convolutions are forbidden here; `F.unfold` is allowed (or use loops, `as_strided`, ...).

# %%
# GRADED: conv2d
import torch
import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation with F.conv2d's semantics (no kernel flip, zero padding on all sides).

    x: (N, C_in, H, W); weight: (C_out, C_in, kH, kW); bias: (C_out,) or None; stride, padding: ints.
    Returns (N, C_out, H_out, W_out) with H_out = (H + 2 * padding - kH) // stride + 1 (same for W).
    """
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = weight.shape
    H_out = (H + 2 * padding - kH) // stride + 1
    W_out = (W + 2 * padding - kW) // stride + 1
    # BEGIN SOLUTION
    cols = F.unfold(x, (kH, kW), padding=padding, stride=stride)  # (N, C_in*kH*kW, L)
    out = weight.reshape(C_out, -1) @ cols  # (N, C_out, L)
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1)  # one bias per output channel
    return out.reshape(N, C_out, H_out, W_out)
    # END SOLUTION


# %%
check("conv2d")


# %% [markdown]
# ### How fast is im2col?
#
# Below, a direct loop implementation (over output positions only, each step a small tensor product),
# your `conv2d` and PyTorch's `F.conv2d` on the same inputs, for growing image sizes.

# %%
def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """The definition, looping over output positions (each step contracts C_in, kH, kW at once)."""
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = weight.shape
    xp = F.pad(x, (padding, padding, padding, padding))
    H_out, W_out = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
    out = x.new_zeros(N, C_out, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride : i * stride + kH, j * stride : j * stride + kW]  # (N, C_in, kH, kW)
            out[:, :, i, j] = torch.einsum("ncuv,ocuv->no", window, weight)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def best_time(fn, repeats=1 if SMOKE else 2):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


sizes = [6, 8] if SMOKE else [8, 16, 24, 32]
gen = torch.Generator().manual_seed(0)
w_t = torch.randn(16, 8, 3, 3, generator=gen)
timings = {"loops": [], "conv2d (im2col)": [], "F.conv2d": []}
for size in tqdm(sizes, desc="timing"):
    x_t = torch.randn(8, 8, size, size, generator=gen)
    timings["loops"].append(best_time(lambda: conv2d_loops(x_t, w_t, padding=1)))
    timings["conv2d (im2col)"].append(best_time(lambda: conv2d(x_t, w_t, padding=1)))
    timings["F.conv2d"].append(best_time(lambda: F.conv2d(x_t, w_t, padding=1)))
    assert torch.allclose(conv2d(x_t, w_t, padding=1), F.conv2d(x_t, w_t, padding=1), atol=1e-4)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
for name, ts in timings.items():
    ax.plot(sizes, [1e3 * t for t in ts], marker="o", label=name)
ax.set_xlabel("image size H = W  (N=8, C_in=8, C_out=16, 3x3)")
ax.set_ylabel("time (ms)")
ax.set_yscale("log")
ax.legend()
plt.show()

# %% [markdown]
# ### Receptive fields
#
# One output pixel of a 3x3 convolution sees a 3x3 patch of its input; stacking layers widens the
# patch. For $\ell$ stacked 3x3 convolutions with stride 1 the receptive field is $(2\ell + 1)^2$; a
# stride-2 layer (or a 2x2 pooling) doubles how fast later layers grow it. We measure it with
# autograd: the gradient of one output pixel with respect to the input is non-zero exactly on its
# receptive field.

# %%
def receptive_field(layers, size=33):
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    y = x
    for layer in layers:
        y = layer(y)
    c = y.shape[-1] // 2
    y[0, 0, c, c].backward()
    return x.grad[0, 0].abs() > 0


ones3 = torch.ones(1, 1, 3, 3)
stacks = {
    "1 conv 3x3": [lambda t: conv2d(t, ones3, padding=1)],
    "3 conv 3x3": [lambda t: conv2d(t, ones3, padding=1)] * 3,
    "conv, stride-2 conv, conv": [lambda t: conv2d(t, ones3, padding=1), lambda t: conv2d(t, ones3, stride=2, padding=1),
                                  lambda t: conv2d(t, ones3, padding=1)],
}
fig, axes = plt.subplots(1, len(stacks), figsize=(10, 3.4))
for ax, (name, layers) in zip(axes, stacks.items()):
    rf = receptive_field(layers)
    ax.imshow(rf, cmap="Greys")
    ax.set_title(f"{name}\n{int(rf.any(0).sum())} x {int(rf.any(1).sum())} pixels", fontsize=10)
    ax.set_axis_off()
plt.tight_layout()
plt.show()

# %% [markdown]
# # GRADED: written_im2col
# **The price of im2col.** For an input of shape $(N, C_\text{in}, H, W)$, a $k \times k$ kernel,
# stride 1 and "same" padding, how many numbers does the unfolded matrix hold, compared with the
# input? Use the timing plot to say which of the three implementations you would ship and why the
# loop version loses, and name one situation in which im2col's memory cost becomes a problem.
# (3 to 5 sentences.)
#
# BEGIN SOLUTION
# With stride 1 and same padding there are $L = HW$ windows of $C_\text{in} k^2$ numbers each, so the
# unfolded matrix holds $N C_\text{in} k^2 H W$ numbers: $k^2$ times the input (9 times for 3x3 kernels,
# 49 times for 7x7). The loop version pays Python overhead and a tiny tensor operation for every output
# position, so its time grows with $H W$ at a large constant, while im2col turns the whole layer into
# one large matrix product that runs at the speed of the BLAS library; `F.conv2d` is faster still
# because it uses specialised algorithms (direct, Winograd or FFT convolutions) that never materialise
# the copies, so that is what one ships. The memory cost hurts for large images, large kernels or
# large batches (high-resolution segmentation, 3-D medical volumes, the first 7x7 layer of a ResNet on
# 224x224 images), where the unfolded copy can exceed the memory of the device.
# END SOLUTION

# %% [markdown]
# ## 2. Max pooling
#
# Max pooling keeps the largest value of each $k \times k$ window, moving by a stride $s$
# (by default $s = k$: non-overlapping windows):
#
# $$
# y_{n,c,i,j} = \max_{0 \le u, v < k} x_{n,c,\, s i + u,\, s j + v}, \qquad
# H_\text{out} = \Big\lfloor \frac{H - k}{s} \Big\rfloor + 1 .
# $$
#
# No padding; windows that do not fit are dropped (floor). The gradient flows only to the maximum of
# each window (when windows overlap, a pixel that is the maximum of several windows receives the sum
# of their gradients). Channels are pooled separately. The tests use inputs without ties.
# `F.max_pool2d`, `nn.MaxPool2d` and their relatives are forbidden here.

# %%
# GRADED: max_pool
import torch
import torch.nn.functional as F


def max_pool2d(x, kernel_size, stride=None):
    """Max pooling with F.max_pool2d's semantics (no padding, floor mode); stride defaults to kernel_size.

    x: (N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - kernel_size) // stride + 1 (same for W).
    """
    stride = kernel_size if stride is None else stride
    N, C, H, W = x.shape
    H_out = (H - kernel_size) // stride + 1
    W_out = (W - kernel_size) // stride + 1
    # BEGIN SOLUTION
    cols = F.unfold(x.reshape(N * C, 1, H, W), kernel_size, stride=stride)  # (N*C, k*k, L)
    return cols.max(dim=1).values.reshape(N, C, H_out, W_out)  # gradient to each window's maximum
    # END SOLUTION


# %%
check("max_pool")

# %% [markdown]
# ## 3. Batch normalisation
#
# Batch normalisation (Ioffe and Szegedy, arXiv:1502.03167, Algorithm 1) normalises every channel with
# the statistics of the current batch, then rescales it with learned parameters $\gamma$ (`weight`) and
# $\beta$ (`bias`). For an input $(N, C)$ the statistics of channel $c$ are taken over the batch; for
# $(N, C, H, W)$ over the batch *and* all positions ($m = N H W$ numbers per channel):
#
# $$
# \mu_c = \frac{1}{m}\sum x, \qquad \sigma_c^2 = \frac{1}{m}\sum (x - \mu_c)^2, \qquad
# y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \varepsilon}} + \beta_c .
# $$
#
# **Running statistics.** At evaluation time there may be a single image, so the layer keeps
# exponential moving averages, updated *in place* in training mode with momentum $\alpha = 0.1$:
#
# $$
# \hat\mu \leftarrow (1 - \alpha)\,\hat\mu + \alpha\,\mu_c, \qquad
# \hat\sigma^2 \leftarrow (1 - \alpha)\,\hat\sigma^2 + \alpha\,\frac{m}{m - 1}\,\sigma_c^2 .
# $$
#
# Careful: the output is normalised with the **biased** variance $\sigma_c^2$, but the running
# variance is updated with the **unbiased** one ($\frac{m}{m-1}\sigma_c^2$), as PyTorch does. In
# evaluation mode (`training=False`) the layer normalises with $\hat\mu, \hat\sigma^2$ and leaves them
# unchanged. Gradients flow to `x`, `weight` and `bias` (not to the running statistics: update them
# under `torch.no_grad()` or from detached values). `F.batch_norm`, `torch.batch_norm`, `nn.BatchNorm*`
# (and the other normalisation layers and kernels) are forbidden here.

# %%
# GRADED: batch_norm
import torch


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    """Batch normalisation with F.batch_norm's semantics.

    x: (N, C) or (N, C, H, W); running_mean, running_var, weight, bias: (C,).
    training=True: normalise with the batch mean and biased variance, and update running_mean and
    running_var IN PLACE (momentum, unbiased variance). training=False: normalise with the running
    statistics and leave them unchanged. Returns a tensor of x's shape.
    """
    dims = [0] + list(range(2, x.dim()))  # every dimension but the channels
    shape = [1, -1] + [1] * (x.dim() - 2)  # (C,) -> broadcastable against x
    # BEGIN SOLUTION
    if training:
        mean = x.mean(dim=dims)  # (C,)
        var = x.var(dim=dims, unbiased=False)  # (C,) biased: used to normalise
        m = x.numel() // x.size(1)  # numbers per channel
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))  # unbiased
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return weight.reshape(shape) * x_hat + bias.reshape(shape)
    # END SOLUTION


# %%
check("batch_norm")

# %% [markdown]
# ## 4. Dropout
#
# Dropout (Srivastava et al., JMLR 2014) zeroes each activation independently with probability $p$
# during training. We use *inverted* dropout, as PyTorch does: the kept activations are scaled by
# $1/(1-p)$ so that the expected value of every activation is unchanged,
#
# $$
# y = \frac{m \odot x}{1 - p}, \quad m_i \sim \mathrm{Bernoulli}(1 - p), \qquad \mathbb{E}[y] = x,
# $$
#
# and evaluation needs no change at all: dropout is the identity when `training=False` (and when
# $p = 0$). When $p = 1$ everything is dropped: return zeros (not `nan` from $0/0$). Draw the mask
# only from `generator` (a `torch.Generator`, possibly on another device than `x`: draw on its device
# and move the mask). `F.dropout`, `nn.Dropout` and their relatives are forbidden here.

# %%
# GRADED: dropout
import torch


def dropout(x, p, training=True, generator=None):
    """Inverted dropout: zero each entry with probability p, scale the kept ones by 1 / (1 - p).

    x: any shape; returns x's shape and dtype. Identity when not training or p == 0; zeros when p == 1.
    Random numbers come only from `generator` (the global generator when it is None).
    """
    # BEGIN SOLUTION
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    where = generator.device if generator is not None else x.device
    u = torch.rand(x.shape, generator=generator, device=where).to(x.device)  # U[0, 1)
    keep = (u >= p).to(x.dtype)  # 1 with probability 1 - p
    return x * keep / (1 - p)
    # END SOLUTION


# %%
check("dropout")

# %% [markdown]
# ## 5. Data augmentation
#
# A classifier should not care whether a digit sits one pixel to the left or is mirrored (for digits,
# mirroring is debatable; for photos of cats it is not). Augmentation shows the network such
# transformed copies, so it learns the invariance from the data. The classic CIFAR recipe is
# `RandomCrop(size, padding)` followed by `RandomHorizontalFlip()`: zero-pad the image by `padding`
# pixels on every side, cut an `H x W` window at a uniformly random offset $(d_y, d_x)$ with
# $0 \le d_y, d_x \le 2\,\text{padding}$, and mirror it left-right with probability 1/2.
#
# `torchvision` does this one image at a time with the global random generator. Write
# `augment_batch`, which does it for a whole batch with tensor operations (no Python loop over images
# is needed: build index tensors, or use `gather`), every image getting its **own** offset and flip,
# with random numbers drawn only from `generator`. Do not modify the input.

# %%
# GRADED: augment
import torch
import torch.nn.functional as F


def augment_batch(x, padding=2, generator=None):
    """Random translation (zero-pad by `padding`, crop back to H x W) and horizontal flip (p = 1/2), per image.

    x: (N, C, H, W) -> (N, C, H, W). Offsets are uniform in {0, ..., 2 * padding} for rows and columns,
    independently per image; random numbers come only from `generator`. x is left unchanged.
    """
    N, C, H, W = x.shape
    # BEGIN SOLUTION
    where = generator.device if generator is not None else x.device
    offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator, device=where).to(x.device)  # (N, 2)
    flip = (torch.rand(N, generator=generator, device=where) < 0.5).to(x.device)  # (N,)
    padded = F.pad(x, (padding, padding, padding, padding))  # (N, C, H + 2p, W + 2p)
    rows = offsets[:, :1] + torch.arange(H, device=x.device)  # (N, H)
    cols = offsets[:, 1:] + torch.arange(W, device=x.device)  # (N, W)
    cols = torch.where(flip[:, None], cols.flip(1), cols)  # mirrored images read their columns backwards
    n = torch.arange(N, device=x.device)[:, None, None, None]
    c = torch.arange(C, device=x.device)[None, :, None, None]
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W)
    # END SOLUTION


# %%
check("augment")

# %% [markdown]
# Your augmentation beside torchvision's `transforms.v2` (one image at a time, global generator):
# the first row is the original batch, then two rows of each.

# %%
from torchvision.transforms import v2  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

batch = X_TRAIN[:8]
tv = v2.Compose([v2.RandomCrop(8, padding=1), v2.RandomHorizontalFlip()])
aug_gen = torch.Generator().manual_seed(1)
rows = [batch, augment_batch(batch, 1, aug_gen), augment_batch(batch, 1, aug_gen),
        torch.stack([tv(img) for img in batch]), torch.stack([tv(img) for img in batch])]
grid = make_grid(torch.cat(rows), nrow=8, padding=1, pad_value=1.0)
plt.figure(figsize=(6, 4))
plt.imshow(grid.permute(1, 2, 0))
plt.yticks([5, 14, 23, 32, 41], ["original", "augment_batch", "augment_batch", "torchvision v2", "torchvision v2"])
plt.xticks([])
plt.show()

# %% [markdown]
# ## 6. Dropout and batch normalisation in training
#
# We train the same small CNN on the digits three ways: plain, with dropout before the classifier,
# and with batch normalisation after each convolution, and follow training loss and validation
# accuracy. The layers below wrap your functions in modules (the running statistics are buffers).

# %%
class MyBatchNorm2d(nn.Module):
    def __init__(self, C, momentum=0.1, eps=1e-5):
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(C)), nn.Parameter(torch.zeros(C))
        self.register_buffer("running_mean", torch.zeros(C))
        self.register_buffer("running_var", torch.ones(C))
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                          self.momentum, self.eps)


class MyDropout(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)


def small_cnn(norm=False, p_drop=0.0, width=16):
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), *([MyBatchNorm2d(cout)] if norm else []), nn.ReLU()]
    return nn.Sequential(*block(1, width), *block(width, width), nn.MaxPool2d(2), *block(width, 2 * width),
                         nn.Flatten(), MyDropout(p_drop), nn.Linear(2 * width * 16, 10))


def loaders(batch_size=64, augment=False):
    gen = torch.Generator().manual_seed(SEED)
    train_set = torch.utils.data.TensorDataset(X_TRAIN, Y_TRAIN)
    val_set = torch.utils.data.TensorDataset(X_VAL, Y_VAL)
    return (torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=gen),
            torch.utils.data.DataLoader(val_set, batch_size=256))


# %% [markdown]
# ### The training loop
#
# `train_epoch` runs one pass over a loader: put the model in training mode (dropout active, batch
# norm using and updating batch statistics), and for each batch move it to the model's device,
# optionally augment the images with the callable `augment`, zero the gradients, compute the
# cross-entropy of the model's logits, backpropagate and step. Return the mean training loss **per
# example** over the epoch (the last batch may be smaller: weight each batch's loss by its size).

# %%
# GRADED: train
import torch
import torch.nn.functional as F


def train_epoch(model, optimizer, loader, augment=None):
    """One epoch of training with cross-entropy; returns the mean loss per example (a Python float).

    loader yields (x, y) batches: x (B, C, H, W), y (B,) class indices. augment: None or a callable
    x -> x applied to each batch of images before the forward pass.
    """
    # BEGIN SOLUTION
    model.train()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        if augment is not None:
            x = augment(x)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
    # END SOLUTION


# %%
check("train", topic="cnn")  # `train` is also a question of another assignment: name the topic


# %%
def fit(model, epochs, lr=3e-3, augment=None, desc="train"):
    """Adam, `epochs` calls of train_epoch; History with train_loss and val_loss/val_acc per epoch."""
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    train_loader, val_loader = loaders()
    history = History()
    for _ in tqdm(range(epochs), desc=desc, leave=False):
        history.add("train_loss", train_epoch(model, opt, train_loader, augment))
        val_loss, val_acc = evaluate(model, val_loader)
        history.add("val_loss", val_loss)
        history.add("val_acc", val_acc)
    return history


EPOCHS = 1 if SMOKE else 5
runs = {}
for name, kwargs in {"plain": {}, "dropout 0.5": {"p_drop": 0.5}, "batch norm": {"norm": True}}.items():
    seed_everything(SEED)
    runs[name] = fit(small_cnn(**kwargs), EPOCHS, desc=name)
    print(f"{name:12s} final train loss {runs[name].last('train_loss'):.3f}  val acc {runs[name].last('val_acc'):.3f}")

fig, axes = plt.subplots(1, 3, figsize=(15, 3.5))
plot_curves(runs, "train_loss", ax=axes[0], log=True, title="training loss (per epoch)")
axes[0].set_xlabel("epoch")
plot_curves(runs, "val_loss", ax=axes[1], title="validation loss")
plot_curves(runs, "val_acc", ax=axes[2], title="validation accuracy")
plt.tight_layout()
plt.show()

# %% [markdown]
# # GRADED: written_bn_dropout
# **Train versus eval.** From the curves, compare the three runs: which one trains fastest, which one
# has the smallest gap between training and validation loss, and why? Then explain what would go wrong
# at test time if batch normalisation kept using batch statistics in evaluation mode (think of a batch
# of one image), and what would go wrong if dropout were left active (or active without the $1/(1-p)$
# scaling) at test time. (4 to 6 sentences.)
#
# BEGIN SOLUTION
# Batch normalisation trains fastest: normalised activations keep every layer in a well-scaled regime,
# so Adam can take larger effective steps and the training loss falls fastest. Dropout trains slowest
# (its training loss stays highest, as it is measured with half the features removed) but its gap
# between training and validation loss is the smallest: it regularises, since no feature can rely on
# another always being present. Batch statistics at test time would make a prediction depend on
# which other images share the batch; with a single image the variance is zero over $N$ (for
# $(N, C)$ inputs) and every output collapses to $\beta$, so the running averages are used instead
# to make evaluation deterministic and per-example. Dropout left active at test time makes
# predictions random and noisier; without the $1/(1-p)$ scaling during training, the expected
# activation in training is $(1-p)$ times what the network sees in evaluation, so every later layer
# receives inputs of the wrong scale at test time.
# END SOLUTION

# %% [markdown]
# ### What the first layer learned
#
# The 16 filters of the batch-norm network's first convolution (3x3 each) and the feature maps they
# produce on one digit, drawn with `torchvision.utils.make_grid`. On 8x8 digits the filters are
# coarse: oriented edges and blobs. If a local MNIST copy exists, the same picture on a 28x28 digit
# is clearer.

# %%
def local_mnist():
    """A local torchvision MNIST copy if there is one (never downloaded), else None."""
    root = os.environ.get("MNIST_ROOT", "data")
    try:
        from torchvision.datasets import MNIST

        return MNIST(root, train=False, download=False)
    except Exception:  # noqa: BLE001 - missing files raise RuntimeError; anything else: no MNIST either
        return None


mnist = local_mnist()
print("local MNIST found: using its first test digit" if mnist is not None else
      "no local MNIST copy (set MNIST_ROOT to a folder holding MNIST/raw): using the 8x8 digits")
bn_model = small_cnn(norm=True).to(device)
seed_everything(SEED)
fit(bn_model, 1 if SMOKE else 2, desc="feature maps")
image = (torch.as_tensor(mnist[0][0].getdata(), dtype=torch.float32).reshape(1, 1, 28, 28) / 255
         if mnist is not None else X_VAL[:1])
conv1 = bn_model[0]
filters = conv1.weight.detach().cpu()  # (16, 1, 3, 3)
maps = F.relu(conv1(image.to(device))).detach().cpu().transpose(0, 1)  # (16, 1, H, W)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), gridspec_kw={"width_ratios": [1, 2, 2]})
axes[0].imshow(image[0, 0], cmap="gray")
axes[0].set_title("input")
axes[1].imshow(make_grid(filters, nrow=4, normalize=True, scale_each=True, pad_value=1)[0], cmap="RdBu")
axes[1].set_title("conv1 filters (each scaled)")
axes[2].imshow(make_grid(maps, nrow=4, normalize=True, scale_each=True, pad_value=1)[0], cmap="gray")
axes[2].set_title("feature maps (ReLU)")
for ax in axes:
    ax.set_axis_off()
plt.show()

# %% [markdown]
# ## 7. Residual blocks
#
# Deeper networks should be at least as good as shallow ones: the extra layers could learn the
# identity. In practice, He et al. (arXiv:1512.03385) found that deep *plain* networks train **worse**
# than shallower ones, on the training set itself: the *degradation problem*. Their fix: let each
# block learn a residual $F(x)$ on top of an identity shortcut,
#
# $$
# y = \mathrm{ReLU}\big(F(x) + \mathrm{shortcut}(x)\big), \qquad
# F(x) = \mathrm{BN}_2(\mathrm{conv}_2(\mathrm{ReLU}(\mathrm{BN}_1(\mathrm{conv}_1(x))))) ,
# $$
#
# so a block whose $F$ is zero is the identity (followed by a ReLU), and gradients reach early layers
# through the shortcuts. The *BasicBlock* of ResNet-18/34 uses two 3x3 convolutions (padding 1, no
# bias: batch norm has one); `conv1` carries the stride. When the block changes the shape (stride > 1
# or other channel counts), the shortcut is a 1x1 convolution with the same stride followed by batch
# norm (`shortcut[0]`, `shortcut[1]`); otherwise it is `nn.Identity()`.
#
# The constructor is given (the tests load weights through these names). Write `forward`.

# %%
# GRADED: resnet_block
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    """ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), H_out = (H - 1) // stride + 1.
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:  # the shape changes: project the shortcut
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        # BEGIN SOLUTION
        out = F.relu(self.bn1(self.conv1(x)))  # (N, C_out, H_out, W_out)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
        # END SOLUTION


# %%
check("resnet_block")

# %% [markdown]
# ### The degradation problem
#
# Two networks of the same depth on the digits: a stem convolution, then `n` blocks at 16 channels,
# `n` blocks at 32 channels (the first with stride 2), global average pooling and a linear classifier.
# The *plain* network uses the same blocks with the shortcut removed. Without batch-norm tricks or
# careful initialisation the deep plain network trains far more slowly; the residual one does not
# care about depth.

# %%
class PlainBlock(BasicBlock):
    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


def resnet(block, n, width=16):
    layers = [nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    layers += [block(width, width) for _ in range(n)]
    layers += [block(width, 2 * width, stride=2)] + [block(2 * width, 2 * width) for _ in range(n - 1)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, 10))


N_BLOCKS = 1 if SMOKE else 4
DEPTH_EPOCHS = 1 if SMOKE else 3
depth_runs = {}
for name, block in {"plain": PlainBlock, "residual": BasicBlock}.items():
    seed_everything(SEED)
    depth_runs[f"{name}, {4 * N_BLOCKS + 2} layers"] = fit(resnet(block, N_BLOCKS), DEPTH_EPOCHS, lr=1e-3, desc=name)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
plot_curves(depth_runs, "train_loss", ax=axes[0], log=True, title="training loss (per epoch)")
axes[0].set_xlabel("epoch")
plot_curves(depth_runs, "val_acc", ax=axes[1], title="validation accuracy")
plt.tight_layout()
plt.show()

# %% [markdown]
# # GRADED: written_degradation
# **Why residual connections help.** Describe what the plot shows. The plain network has exactly the
# same layers and could in principle represent everything the residual one can, so why does it train
# worse? Give two reasons residual connections make optimisation easier (think of what the block
# computes at initialisation and of how the gradient reaches the first layers). (4 to 6 sentences.)
#
# BEGIN SOLUTION
# The residual network's training loss falls quickly and its validation accuracy rises within an
# epoch or two, while the plain network of the same depth trains much more slowly: this is an
# optimisation problem, not overfitting, since the gap is on the training loss itself. A plain stack
# must learn to pass information through every layer; at initialisation each layer scrambles its input,
# and the composition of many such layers destroys the signal, so early progress is slow. A residual
# block computes $x + F(x)$: if $F$ is small the block is close to the identity, so a deep residual
# network starts near a shallow one and only has to learn corrections. The gradient also reaches early
# layers through the shortcuts, since $\partial y / \partial x = I + \partial F / \partial x$ never
# vanishes because of the other layers' products, whereas a plain network multiplies many Jacobians
# that can shrink or explode. Hence extra depth in a ResNet costs little and can only help.
# END SOLUTION

# %% [markdown]
# ### Training a ResNet with augmentation
#
# A small ResNet of your blocks trained with your `train_epoch`, without augmentation, with your
# `augment_batch` (padding 1), and with its shifts alone (no flips).

# %%
def shift_only(x, padding, generator):
    """augment_batch without the flips: each image moved by its own random offset (zero padding)."""
    N, C, H, W = x.shape
    padded = F.pad(x, [padding] * 4)  # (N, C, H + 2p, W + 2p)
    offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, a : a + H, b : b + W] for i, (a, b) in enumerate(offsets)])  # (N, C, H, W)


seed_everything(SEED)
aug_gen = torch.Generator().manual_seed(SEED)
aug_runs = {}
augmentations = {"no augmentation": None, "augment_batch": lambda x: augment_batch(x, 1, aug_gen),
                 "shifts only": lambda x: shift_only(x, 1, aug_gen)}
for name, aug in augmentations.items():
    seed_everything(SEED)
    aug_runs[name] = fit(resnet(BasicBlock, 1), 1 if SMOKE else 4, augment=aug, desc=name)
    print(f"{name:16s} val acc {aug_runs[name].last('val_acc'):.3f}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
plot_curves(aug_runs, "val_loss", ax=axes[0], title="validation loss")
plot_curves(aug_runs, "val_acc", ax=axes[1], title="validation accuracy")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What the curves say.** Here augmentation does not help, and the flips hurt a lot (at full size:
# validation accuracy 0.997 without augmentation, 0.71 with `augment_batch`, 0.96 with shifts
# alone, after four epochs). An augmentation must keep the label: a horizontally flipped 2, 3, 4, 5,
# 7 or 9 is no longer that digit, so flips suit photographs of objects (CIFAR-10, ImageNet), not
# characters. Shifts keep the label, but these 8x8 digits are centred like the validation ones and the
# model trains for only four epochs, so shifts make the task harder without a shift at test time to
# protect against; they pay off with longer training, larger images, or test images that are not
# framed like the training ones.

# %% [markdown]
# ## 8. U-Net
#
# A U-Net (Ronneberger et al., arXiv:1505.04597) maps an image to an image of the same size, e.g. a
# segmentation mask. The *encoder* applies two 3x3 convolutions (with batch norm and ReLU) per level
# and halves the resolution with 2x2 max pooling; the *decoder* doubles it again with a 2x2 transposed
# convolution, concatenates the encoder's feature map of the same resolution (the *skip connection*:
# fine detail the bottleneck cannot carry), and applies two 3x3 convolutions. A 1x1 convolution maps to
# the output channels. With padding 1 every convolution keeps the size, so the output is
# $H \times W$ whenever $H$ and $W$ are divisible by $2^\text{depth}$.
#
# With channels $c_i = \text{base} \cdot 2^i$:
#
# | module | what it does | shape |
# | --- | --- | --- |
# | `down[i]`, i = 0..depth-1 | double conv, in: `in_channels` or $c_{i-1}$ | $(N, c_i, H/2^i, W/2^i)$, keep it as skip $i$, then `pool` |
# | `bottleneck` | double conv | $(N, c_\text{depth}, H/2^\text{depth}, W/2^\text{depth})$ |
# | `up[j]`, j = 0..depth-1 | transposed conv 2x2, stride 2, $c_{d-j} \to c_{d-j-1}$ | doubles H and W |
# | `dec[j]` | double conv on `torch.cat([skip, upsampled], dim=1)`, $2c_{d-j-1} \to c_{d-j-1}$ | |
# | `head` | 1x1 conv, $c_0 \to$ `out_channels` | $(N, \text{out}, H, W)$ |
#
# `up[0]` and `dec[0]` are the *deepest* decoder level: they meet the last skip (level depth-1).
# Concatenate the skip **first**, then the upsampled map. The output is raw logits (no sigmoid).

# %%
# GRADED: unet
import torch
import torch.nn as nn


def double_conv(in_channels, out_channels):
    """Two (3x3 conv, padding 1) -> batch norm -> ReLU layers; keeps H and W."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
    )


class UNet(nn.Module):
    """U-Net: x (N, in_channels, H, W) -> logits (N, out_channels, H, W), H and W divisible by 2**depth."""

    def __init__(self, in_channels=1, out_channels=1, base_channels=8, depth=2):
        super().__init__()
        ch = [base_channels * 2**i for i in range(depth + 1)]  # c_0, ..., c_depth
        self.depth = depth
        self.down = nn.ModuleList(double_conv(in_channels if i == 0 else ch[i - 1], ch[i]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double_conv(ch[depth - 1], ch[depth])
        self.up = nn.ModuleList(nn.ConvTranspose2d(ch[depth - j], ch[depth - j - 1], 2, stride=2)
                                for j in range(depth))
        self.dec = nn.ModuleList(double_conv(2 * ch[depth - j - 1], ch[depth - j - 1]) for j in range(depth))
        self.head = nn.Conv2d(ch[0], out_channels, 1)

    def forward(self, x):
        # BEGIN SOLUTION
        skips = []
        for down in self.down:
            x = down(x)  # (N, c_i, H / 2^i, W / 2^i)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)  # (N, c_depth, H / 2^depth, W / 2^depth)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = up(x)  # twice the resolution, the skip's channel count
            x = dec(torch.cat([skip, x], dim=1))
        return self.head(x)  # (N, out_channels, H, W) logits
        # END SOLUTION


# %%
check("unet")


# %% [markdown]
# ### Segmenting synthetic shapes
#
# Each 32x32 image holds a few random discs and squares on a noisy background; the task is to
# segment the discs only (squares are distractors), pixel by pixel, with a binary cross-entropy
# loss on the logits.

# %%
def shapes(n, size=32, seed=0):
    """Noisy images with discs and squares, and the mask of the discs: (n, 1, size, size) each."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images, masks = torch.zeros(n, 1, size, size), torch.zeros(n, 1, size, size)
    for i in range(n):
        for _ in range(int(torch.randint(2, 5, (1,), generator=g))):
            cy, cx = torch.randint(4, size - 4, (2,), generator=g).tolist()
            r = int(torch.randint(2, 6, (1,), generator=g))
            if torch.rand(1, generator=g) < 0.5:
                disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
                images[i, 0][disc] = 1.0
                masks[i, 0][disc] = 1.0
            else:
                square = ((yy - cy).abs() <= r) & ((xx - cx).abs() <= r)
                images[i, 0][square] = 1.0
                masks[i, 0][square] = 0.0
    return images + 0.3 * torch.randn(images.shape, generator=g), masks


n_train = 16 if SMOKE else 512
seg_x, seg_y = shapes(n_train, seed=0)
seg_xv, seg_yv = shapes(16 if SMOKE else 64, seed=1)
seed_everything(SEED)
unet = UNet(1, 1, base_channels=8, depth=2).to(device)
opt = torch.optim.Adam(unet.parameters(), lr=3e-3)
steps = 3 if SMOKE else 150
seg_history = History()
g = torch.Generator().manual_seed(SEED)
for step in tqdm(range(steps), desc="U-Net"):
    idx = torch.randint(0, n_train, (8 if SMOKE else 16,), generator=g)
    loss = F.binary_cross_entropy_with_logits(unet(seg_x[idx].to(device)), seg_y[idx].to(device))
    opt.zero_grad()
    loss.backward()
    opt.step()
    seg_history.add("train_loss", loss.item())
unet.eval()
with torch.no_grad():
    pred = (unet(seg_xv.to(device)) > 0).float().cpu()
iou = ((pred * seg_yv).sum() / ((pred + seg_yv) > 0).float().sum()).item()
print(f"validation IoU of the discs: {iou:.3f}")
fig, axes = plt.subplots(1, 2, figsize=(13, 3.5), gridspec_kw={"width_ratios": [1, 3]})
plot_curves({"U-Net": seg_history}, ax=axes[0], smooth=10, log=True, title="BCE loss")
panel = make_grid(torch.cat([seg_xv[:6].clamp(0, 1), seg_yv[:6], pred[:6]]), nrow=6, padding=2, pad_value=0.5)
axes[1].imshow(panel[0], cmap="gray")
axes[1].set_title("rows: input, true disc mask, predicted mask")
axes[1].set_axis_off()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * A convolution is a cross-correlation; `unfold` turns it into one matrix product at the price of
#   $k^2$ copies of the input. Stacked small kernels and strides grow the receptive field.
# * Max pooling routes the gradient to each window's maximum.
# * Batch norm normalises with batch statistics in training (biased variance) and running averages
#   in evaluation (updated with the unbiased variance); dropout is inverted so evaluation needs nothing.
# * Augmentation is a per-image random transform; drawing from an explicit generator makes it reproducible.
# * Residual connections make deep networks as easy to train as shallow ones.
# * A U-Net's skip connections carry the detail that the bottleneck loses, and give an output of the
#   input's size.

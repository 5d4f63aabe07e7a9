"""Public tests of the cnn assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more shapes,
strides and paddings, gradients (gradcheck in float64), dtypes, statistics over many draws, and a
small ResNet of your blocks trained with your train_epoch on the digits.

Random inputs come from `gen`, a generator seeded for each test. Modules get their weights loaded
through the documented parameter names, so the order in which your code draws random numbers
never matters.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

F64 = torch.float64


def randn(gen, *shape, dtype=F64):
    return torch.randn(*shape, generator=gen, dtype=F64).to(dtype)


def load_weights(module, gen):
    """Overwrite every parameter and batch-norm buffer of `module` with random values from `gen`."""
    with torch.no_grad():
        for name, t in sorted(module.state_dict().items()):
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen, dtype=F64))
            else:
                t.copy_(0.5 * torch.randn(t.shape, generator=gen, dtype=F64))


# --------------------------------------------------------------------------- conv2d


@pytest.mark.question("conv2d")
@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 1)])
def test_conv2d_values(sub, observe, device, gen, stride, padding):
    """matches F.conv2d's definition (cross-correlation, zero padding, floor output size)"""
    x = randn(gen, 2, 3, 7, 6).to(device)
    w = randn(gen, 4, 3, 3, 2).to(device)
    b = randn(gen, 4).to(device)
    out = sub.conv2d(x, w, b, stride=stride, padding=padding)
    H_out, W_out = (7 + 2 * padding - 3) // stride + 1, (6 + 2 * padding - 2) // stride + 1
    assert tuple(out.shape) == (2, 4, H_out, W_out), (
        f"conv2d output shape {tuple(out.shape)} should be (N, C_out, H_out, W_out) = {(2, 4, H_out, W_out)} with "
        "H_out = (H + 2 * padding - kH) // stride + 1"
    )
    observe(f"conv2d(stride={stride}, padding={padding})", out)


@pytest.mark.question("conv2d")
def test_conv2d_gradient(sub, observe, device, gen):
    """passes gradients to x, weight and bias"""
    x = randn(gen, 2, 2, 5, 5).to(device).requires_grad_(True)
    w = randn(gen, 3, 2, 3, 3).to(device).requires_grad_(True)
    b = randn(gen, 3).to(device).requires_grad_(True)
    out = sub.conv2d(x, w, b, padding=1)
    (out * randn(gen, *out.shape).to(device)).sum().backward()
    for name, t in {"x": x, "weight": w, "bias": b}.items():
        assert t.grad is not None, f"no gradient reached {name}: keep every step of conv2d on the autograd graph"
        observe(f"{name}.grad", t.grad)


# --------------------------------------------------------------------------- max_pool


@pytest.mark.question("max_pool")
@pytest.mark.parametrize("kernel_size,stride", [(2, None), (3, 2)])
def test_max_pool_values_and_gradient(sub, observe, device, gen, kernel_size, stride):
    """takes the maximum of each window and sends the gradient to it"""
    x = randn(gen, 2, 3, 7, 8).to(device).requires_grad_(True)
    out = sub.max_pool2d(x, kernel_size, stride)
    s = kernel_size if stride is None else stride
    shape = (2, 3, (7 - kernel_size) // s + 1, (8 - kernel_size) // s + 1)
    assert tuple(out.shape) == shape, f"max_pool2d output shape {tuple(out.shape)} should be {shape} (floor mode)"
    observe("max_pool2d(x)", out)
    (out * randn(gen, *out.shape).to(device)).sum().backward()
    observe("x.grad", x.grad)


# --------------------------------------------------------------------------- batch_norm


@pytest.mark.question("batch_norm")
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm(sub, observe, device, gen, training):
    """normalises and updates the running statistics (train) or uses them (eval)"""
    C = 3
    x = (2.0 + 3.0 * randn(gen, 5, C, 4, 3)).to(device)
    running_mean, running_var = randn(gen, C).to(device), (1.0 + torch.rand(C, generator=gen, dtype=F64)).to(device)
    weight, bias = randn(gen, C).to(device), randn(gen, C).to(device)
    out = sub.batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.2)
    assert out.shape == x.shape, f"batch_norm output shape {tuple(out.shape)} should equal the input's"
    observe("output", out)
    observe("running_mean after the call", running_mean)
    observe("running_var after the call", running_var)


# --------------------------------------------------------------------------- dropout


@pytest.mark.question("dropout")
def test_dropout_statistics(sub, observe, device, gen):
    """drops about p of the entries and scales the others by 1 / (1 - p)"""
    p = 0.3
    x = torch.ones(200, 100, dtype=F64).to(device)
    out = sub.dropout(x, p, training=True, generator=gen)
    assert out.shape == x.shape, f"dropout output shape {tuple(out.shape)} should equal the input's"
    kept = out != 0
    observe("fraction of entries zeroed", float((~kept).double().mean()), atol=0.03)
    observe("kept entries equal 1 / (1 - p)", bool(torch.allclose(out[kept], torch.full_like(out[kept], 1 / (1 - p)))))


@pytest.mark.question("dropout")
def test_dropout_eval_identity(sub, observe, device, gen):
    """is the identity when training=False"""
    x = randn(gen, 4, 5).to(device)
    observe("dropout(x, 0.5, training=False) equals x", bool(torch.equal(sub.dropout(x, 0.5, training=False), x)))


# --------------------------------------------------------------------------- augment


def _candidates(x, padding):
    """Every crop-and-flip of every image: (N, 2 * (2p + 1)^2, C, H, W)."""
    N, C, H, W = x.shape
    padded = F.pad(x, (padding,) * 4)
    crops = [padded[:, :, dy : dy + H, dx : dx + W] for dy in range(2 * padding + 1) for dx in range(2 * padding + 1)]
    crops += [c.flip(-1) for c in crops]
    return torch.stack(crops, dim=1)


@pytest.mark.question("augment")
def test_augment_is_crop_and_flip(sub, observe, device, gen):
    """turns every image into a crop of its padded self, possibly mirrored, and leaves x unchanged"""
    x = randn(gen, 64, 2, 5, 6).to(device)
    before = x.clone()
    out = sub.augment_batch(x, padding=1, generator=gen)
    assert torch.equal(x, before), "augment_batch modified its input: build a new tensor (no in-place ops on x)"
    assert out.shape == x.shape, f"augment_batch output shape {tuple(out.shape)} should equal the input's"
    match = (_candidates(x, 1) == out[:, None]).flatten(2).all(-1)  # (N, K)
    valid = bool(match.any(1).all())
    assert valid, "some output images are not a zero-padded crop of their own input, mirrored left-right or not"
    observe("every image is a crop, maybe flipped", valid)
    K = match.shape[1] // 2
    observe("fraction flipped", float(match[:, K:].any(1).double().mean()), atol=0.2)


# --------------------------------------------------------------------------- resnet_block


@pytest.mark.question("resnet_block")
@pytest.mark.parametrize("cin,cout,stride", [(4, 4, 1), (4, 6, 2)])
def test_basic_block(sub, observe, device, gen, cin, cout, stride):
    """matches the reference in train and eval mode (identity and projection shortcuts)"""
    block = sub.BasicBlock(cin, cout, stride)
    load_weights(block, gen)
    block = block.to(device=device, dtype=F64)
    x = randn(gen, 3, cin, 6, 6).to(device)
    out = block.train()(x)
    assert tuple(out.shape) == (3, cout, 6 // stride, 6 // stride), f"BasicBlock output shape {tuple(out.shape)}"
    observe("train-mode output", out)
    observe("eval-mode output", block.eval()(x))


# --------------------------------------------------------------------------- unet


@pytest.mark.question("unet")
def test_unet(sub, observe, device, gen):
    """keeps H x W and matches the reference"""
    model = sub.UNet(in_channels=2, out_channels=3, base_channels=4, depth=2)
    load_weights(model, gen)
    model = model.to(device=device, dtype=F64).eval()
    x = randn(gen, 2, 2, 8, 12).to(device)
    out = model(x)
    assert tuple(out.shape) == (2, 3, 8, 12), f"UNet output shape {tuple(out.shape)} should be (N, out_channels, H, W)"
    observe("UNet(x)", out)


# --------------------------------------------------------------------------- train


class ToyNet(nn.Module):
    """A tiny classifier with a batch norm (training mode matters) for 1x4x4 images."""

    def __init__(self, gen):
        super().__init__()
        self.fc = nn.Linear(16, 5)
        self.bn = nn.BatchNorm1d(5)
        load_weights(self, gen)

    def forward(self, x):
        return self.bn(self.fc(x.flatten(1)))


@pytest.mark.question("train")
def test_train_epoch(sub, observe, device, gen):
    """one epoch with SGD matches the reference (mean loss per example, parameters after)"""
    model = ToyNet(gen).to(device=device, dtype=F64).eval()
    x, y = randn(gen, 10, 1, 4, 4), torch.randint(0, 5, (10,), generator=gen)
    loader = [(x[:4], y[:4]), (x[4:8], y[4:8]), (x[8:], y[8:])]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = sub.train_epoch(model, opt, loader)
    assert isinstance(loss, float), f"train_epoch must return a Python float (loss.item()), got {type(loss).__name__}"
    observe("returned mean loss", loss)
    for name, p in model.state_dict().items():
        observe(f"{name} after the epoch", p)

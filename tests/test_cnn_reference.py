"""The cnn reference solution against independent oracles.

The graded cells of solutions/cnn/cnn.py are checked against PyTorch's own layers (F.conv2d,
F.max_pool2d and its gradient, F.batch_norm's values and running statistics, nn.BatchNorm2d),
against torchvision's ResNet BasicBlock with copied weights, against statistics (dropout,
augmentation frequencies) and against invariants (augmentation is a crop-and-flip of its input,
U-Net keeps H x W). These are the facts the hidden tests inherit when they compare students to
the reference.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.notebook import reference_module

ref = reference_module("cnn")

F64 = torch.float64
EXACT = dict(rtol=1e-10, atol=1e-10)  # float64, same maths up to operation order


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=F64):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


# ------------------------------------------------------------------------------------------ conv2d

CONV_CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 0), ((1, 1, 5, 7), (1, 1, 3, 3), 1, 1), ((2, 5, 8, 6), (6, 5, 1, 1), 2, 1),
    ((3, 2, 9, 7), (3, 2, 5, 3), 2, 2), ((2, 4, 7, 10), (5, 4, 2, 4), 3, 1), ((1, 3, 4, 4), (2, 3, 4, 4), 1, 0),
    ((1, 8, 11, 5), (1, 8, 3, 3), 3, 0), ((2, 1, 6, 6), (7, 1, 2, 2), 2, 0),
]


@pytest.mark.parametrize("xs,ws,stride,padding", CONV_CASES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_matches_torch(xs, ws, stride, padding, with_bias):
    x, w = randn(*xs, seed=1), randn(*ws, seed=2)
    b = randn(ws[0], seed=3) if with_bias else None
    torch.testing.assert_close(ref.conv2d(x, w, b, stride, padding), F.conv2d(x, w, b, stride, padding), **EXACT)


def test_conv2d_gradients_match_torch():
    x, w, b = randn(2, 3, 7, 6, seed=1), randn(4, 3, 3, 2, seed=2), randn(4, seed=3)
    up = randn(2, 4, 4, 4, seed=4)
    grads = []
    for fn in (ref.conv2d, F.conv2d):
        xs = [t.clone().requires_grad_(True) for t in (x, w, b)]
        (fn(*xs, 2, 1) * up).sum().backward()
        grads.append([t.grad for t in xs])
    for a, e in zip(*grads):
        torch.testing.assert_close(a, e, **EXACT)


def test_conv2d_gradcheck_and_float32():
    xs = [randn(1, 2, 5, 4, seed=1).requires_grad_(True), randn(2, 2, 3, 3, seed=2).requires_grad_(True)]
    assert torch.autograd.gradcheck(lambda x, w: ref.conv2d(x, w, None, 2, 1), xs)
    x32, w32 = randn(2, 3, 8, 8, seed=5).float(), randn(4, 3, 3, 3, seed=6).float()
    out = ref.conv2d(x32, w32, padding=1)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, F.conv2d(x32, w32, padding=1), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------ max pooling


@pytest.mark.parametrize("shape,k,stride", [((2, 3, 8, 8), 2, None), ((2, 3, 7, 9), 2, None), ((1, 2, 9, 7), 3, None),
                                            ((2, 2, 7, 8), 3, 2), ((1, 4, 6, 5), 2, 1), ((2, 1, 10, 6), 4, 3)])
def test_max_pool_matches_torch(shape, k, stride):
    x = randn(*shape, seed=7)
    a, e = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_a, out_e = ref.max_pool2d(a, k, stride), F.max_pool2d(e, k, stride)
    torch.testing.assert_close(out_a, out_e, rtol=0, atol=0)
    up = randn(*out_e.shape, seed=8)
    (out_a * up).sum().backward()
    (out_e * up).sum().backward()
    torch.testing.assert_close(a.grad, e.grad, **EXACT)


# ------------------------------------------------------------------------------------------ batch norm


@pytest.mark.parametrize("shape", [(8, 3), (5, 4, 3, 2), (2, 3, 5, 4), (16, 1)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_batch_norm_matches_torch(shape, training, momentum):
    C = shape[1]
    x = randn(*shape, seed=9) * 3 + 1
    stats = [randn(C, seed=10), 0.5 + torch.rand(C, generator=gen(11), dtype=F64)]
    w, b = randn(C, seed=12), randn(C, seed=13)
    mine, theirs = [t.clone() for t in stats], [t.clone() for t in stats]
    xa, xe = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    wa, we, ba, be = (t.clone().requires_grad_(True) for t in (w, w, b, b))
    out_a = ref.batch_norm(xa, *mine, wa, ba, training, momentum, 1e-5)
    out_e = F.batch_norm(xe, *theirs, we, be, training, momentum, 1e-5)
    torch.testing.assert_close(out_a, out_e, **EXACT)
    torch.testing.assert_close(mine[0], theirs[0], **EXACT)
    torch.testing.assert_close(mine[1], theirs[1], **EXACT)
    up = randn(*shape, seed=14)
    (out_a * up).sum().backward()
    (out_e * up).sum().backward()
    for a, e in ((xa, xe), (wa, we), (ba, be)):
        torch.testing.assert_close(a.grad, e.grad, rtol=1e-8, atol=1e-10)


def test_batch_norm_module_over_steps():
    """Three training steps and an eval step equal nn.BatchNorm2d's (running stats included)."""
    bn = nn.BatchNorm2d(3).double()
    rm, rv = torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64)
    for step in range(3):
        x = randn(4, 3, 2, 5, seed=20 + step) * (step + 1)
        torch.testing.assert_close(ref.batch_norm(x, rm, rv, bn.weight, bn.bias, True), bn.train()(x), **EXACT)
    torch.testing.assert_close(rm, bn.running_mean, **EXACT)
    torch.testing.assert_close(rv, bn.running_var, **EXACT)
    x = randn(2, 3, 2, 2, seed=30)
    torch.testing.assert_close(ref.batch_norm(x, rm, rv, bn.weight, bn.bias, False), bn.eval()(x), **EXACT)


# ------------------------------------------------------------------------------------------ dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = torch.ones(400, 500, dtype=F64)
    out = ref.dropout(x, p, generator=gen(1))
    frac = float((out == 0).double().mean())
    assert abs(frac - p) < 0.01
    assert torch.allclose(out[out != 0], torch.full_like(out[out != 0], 1 / (1 - p)))
    assert abs(float(out.mean()) - 1.0) < 0.02  # E[y] = x


def test_dropout_special_cases_and_generator():
    x = randn(6, 7, seed=2)
    assert torch.equal(ref.dropout(x, 0.5, training=False), x)
    assert torch.equal(ref.dropout(x, 0.0), x)
    assert torch.equal(ref.dropout(x, 1.0), torch.zeros_like(x))
    torch.manual_seed(0)
    a = ref.dropout(x, 0.5, generator=gen(3))
    torch.manual_seed(1)
    assert torch.equal(a, ref.dropout(x, 0.5, generator=gen(3)))
    # same distribution as F.dropout: the fraction dropped agrees over many entries
    big = torch.ones(300, 300, dtype=F64)
    torch.manual_seed(0)
    theirs = float((F.dropout(big, 0.3) == 0).double().mean())
    mine = float((ref.dropout(big, 0.3, generator=gen(4)) == 0).double().mean())
    assert abs(theirs - mine) < 0.01


# ------------------------------------------------------------------------------------------ augmentation


def _transforms(x, padding):
    N, C, H, W = x.shape
    padded = F.pad(x, (padding,) * 4)
    out = {}
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            crop = padded[:, :, dy : dy + H, dx : dx + W]
            out[(dy, dx, 0)], out[(dy, dx, 1)] = crop, crop.flip(-1)
    return out


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_augment_is_crop_and_flip_with_uniform_frequencies(padding):
    x = randn(2000, 2, 5, 6, seed=5)
    before = x.clone()
    out = ref.augment_batch(x, padding, gen(6))
    assert torch.equal(x, before)
    counts = {}
    for key, t in _transforms(x, padding).items():
        counts[key] = int((t == out).flatten(1).all(1).sum())
    assert sum(counts.values()) == len(x)  # each image is exactly one transform of itself
    n = 2 * padding + 1
    for key, c in counts.items():
        assert abs(c / len(x) - 1 / (2 * n * n)) < 0.025, (key, c)


def test_augment_matches_torchvision_family():
    """Every torchvision RandomCrop(padding) + RandomHorizontalFlip output is one of our transforms, and back."""
    v2 = pytest.importorskip("torchvision.transforms.v2")
    x = randn(1, 1, 6, 6, seed=7)
    tv = v2.Compose([v2.RandomCrop(6, padding=2), v2.RandomHorizontalFlip()])
    candidates = torch.stack(list(_transforms(x, 2).values()))[:, 0]  # (K, 1, 6, 6)
    torch.manual_seed(0)
    for _ in range(30):
        assert (candidates == tv(x[0])).flatten(1).all(1).any()
        assert (candidates == ref.augment_batch(x, 2, None)[0]).flatten(1).all(1).any()


# ------------------------------------------------------------------------------------------ ResNet block


@pytest.mark.parametrize("cin,cout,stride", [(4, 4, 1), (4, 8, 2), (6, 6, 2)])
@pytest.mark.parametrize("mode", [True, False])
def test_basic_block_matches_torchvision(cin, cout, stride, mode):
    resnet = pytest.importorskip("torchvision.models.resnet")
    torch.manual_seed(0)
    mine = ref.BasicBlock(cin, cout, stride).double()
    down = None
    if stride != 1 or cin != cout:
        down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    theirs = resnet.BasicBlock(cin, cout, stride, downsample=down).double()
    with torch.no_grad():
        for module in (mine, theirs):  # non-trivial batch-norm statistics and affine parameters
            for name, t in module.state_dict().items():
                if t.is_floating_point():
                    t.copy_(0.5 + torch.rand(t.shape, generator=gen(sum(map(ord, name.split(".")[-1]))), dtype=F64))
        theirs.load_state_dict({k.replace("shortcut.", "downsample."): v for k, v in mine.state_dict().items()})
    x = randn(3, cin, 7, 6, seed=8)
    torch.testing.assert_close(mine.train(mode)(x), theirs.train(mode)(x), **EXACT)


def test_basic_block_zero_init_residual_is_relu():
    block = ref.BasicBlock(5, 5).double().eval()
    nn.init.zeros_(block.bn2.weight)
    x = randn(2, 5, 4, 4, seed=9)
    torch.testing.assert_close(block(x), torch.relu(x), **EXACT)


# ------------------------------------------------------------------------------------------ U-Net


@pytest.mark.parametrize("depth,base,cin,cout", [(1, 4, 1, 1), (2, 8, 1, 1), (3, 2, 3, 2)])
def test_unet_keeps_size(depth, base, cin, cout):
    model = ref.UNet(cin, cout, base, depth).eval()
    unit = 2**depth
    x = torch.randn(2, cin, 2 * unit, 3 * unit, generator=gen(10))
    assert model(x).shape == (2, cout, 2 * unit, 3 * unit)


def test_unet_uses_every_skip():
    """Each decoder level's output depends on its skip: zeroing the skip's half of dec[j]'s first weights changes it."""
    torch.manual_seed(0)
    model = ref.UNet(1, 1, 4, 2).double().eval()
    x = randn(1, 1, 8, 8, seed=11)
    base = model(x)
    for j in range(2):
        skip_channels = model.up[j].out_channels
        saved = model.dec[j][0].weight.detach().clone()
        with torch.no_grad():
            model.dec[j][0].weight[:, :skip_channels] = 0
        assert not torch.allclose(model(x), base)
        with torch.no_grad():
            model.dec[j][0].weight.copy_(saved)

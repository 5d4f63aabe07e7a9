"""Hidden tests of `BasicBlock(in_channels, out_channels, stride=1).forward`.

relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut = identity, or 1x1 convolution with
the stride followed by batch norm when the shape changes. Weights and batch-norm statistics are
loaded through the documented names (conv1, bn1, conv2, bn2, shortcut.0, shortcut.1), in float64,
and the outputs compared in training mode (batch statistics) and eval mode (running statistics).
An invariant: with bn2's weight and bias at zero (torchvision's zero_init_residual), an identity
block is exactly relu(x).
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("resnet_block")

helpers = load_helpers(__file__)
F64, randn, load_weights = helpers.F64, helpers.randn, helpers.load_weights


def make_block(sub, gen, device, cin, cout, stride):
    block = sub.BasicBlock(cin, cout, stride)
    load_weights(block, gen)
    return block.to(device=device, dtype=F64)


def check_shape(out, x, cout, stride):
    N, _, H, W = x.shape
    want = (N, cout, (H - 1) // stride + 1, (W - 1) // stride + 1)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == want, (
        f"BasicBlock output shape {tuple(getattr(out, 'shape', ()))} should be {want}"
    )


CASES = [(4, 4, 1), (4, 8, 1), (4, 8, 2), (6, 6, 2), (3, 5, 3)]
IDS = [f"{a}to{b}-s{s}" for a, b, s in CASES]


@pytest.mark.parametrize("cin,cout,stride", CASES, ids=IDS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_forward(sub, observe, device, gen, cin, cout, stride, mode):
    """matches the reference (identity and projection shortcuts, train and eval mode)"""
    block = make_block(sub, gen, device, cin, cout, stride)
    block.train(mode == "train")
    x = randn(gen, 3, cin, 7, 6).to(device)
    out = block(x)
    check_shape(out, x, cout, stride)
    assert (out >= 0).all(), "the block ends with a ReLU: its output cannot be negative"
    observe(f"{mode}-mode output", out)


def test_zero_residual_is_identity(sub, observe, device, gen):
    """with bn2's weight and bias at zero an identity block computes relu(x)"""
    block = make_block(sub, gen, device, 5, 5, 1).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = randn(gen, 2, 5, 6, 6).to(device)
    out = block(x)
    check_shape(out, x, 5, 1)
    ok = torch.allclose(out, torch.relu(x))
    assert ok, (
        "with the residual branch zeroed (bn2 weight and bias 0) the block must return relu(x + 0): add the "
        "shortcut to bn2's output, then apply the ReLU"
    )
    observe("block(x) equals relu(x)", ok)


def test_projection_shortcut_used(sub, observe, device, gen):
    """uses the 1x1 convolution and its batch norm on the shortcut when the shape changes"""
    block = make_block(sub, gen, device, 3, 6, 2).eval()
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = randn(gen, 2, 3, 6, 6).to(device)
    out = block(x)
    check_shape(out, x, 6, 2)
    observe("relu(shortcut(x))", out)


def test_gradients(sub, observe, device, gen):
    """passes gradients to the input and to every parameter, the shortcut's included"""
    block = make_block(sub, gen, device, 4, 6, 2).train()
    x = randn(gen, 3, 4, 6, 6).to(device).requires_grad_(True)
    out = block(x)
    check_shape(out, x, 6, 2)
    (out * randn(gen, *out.shape).to(device)).sum().backward()
    missing = [n for n, p in block.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reached {missing}: every module of the block must be used in forward"
    observe("x.grad", x.grad)
    for n, p in sorted(block.named_parameters()):
        observe(f"{n}.grad", p.grad)


def test_running_statistics(sub, observe, device, gen):
    """updates the batch-norm running statistics in training mode (each module called once)"""
    block = make_block(sub, gen, device, 4, 6, 1).train()
    block(randn(gen, 4, 4, 5, 5).to(device))
    for n, t in sorted(block.state_dict().items()):
        if "running" in n:
            observe(n, t)

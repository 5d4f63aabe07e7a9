"""Hidden tests of `UNet(in_channels=1, out_channels=1, base_channels=8, depth=2).forward`.

Encoder: down[i] (double conv), keep the result as skip i, pool; bottleneck; decoder: up[j]
(transposed convolution), dec[j] on torch.cat([skip, upsampled], dim=1), deepest level first;
head (1x1 convolution), raw logits. Weights and batch-norm statistics are loaded through the
documented names in float64; outputs compared with the reference for several depths, widths,
channel counts and non-square sizes, in eval and train mode.
"""

import pytest
import torch

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("unet")

helpers = load_helpers(__file__)
F64, randn, load_weights = helpers.F64, helpers.randn, helpers.load_weights


def make(sub, gen, device, **kwargs):
    model = sub.UNet(**kwargs)
    load_weights(model, gen)
    return model.to(device=device, dtype=F64)


CASES = [
    dict(in_channels=1, out_channels=1, base_channels=4, depth=1),
    dict(in_channels=1, out_channels=1, base_channels=4, depth=2),
    dict(in_channels=3, out_channels=2, base_channels=2, depth=3),
    dict(in_channels=2, out_channels=4, base_channels=3, depth=2),
]
IDS = [f"in{c['in_channels']}-out{c['out_channels']}-base{c['base_channels']}-depth{c['depth']}" for c in CASES]


@pytest.mark.parametrize("config", CASES, ids=IDS)
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_forward(sub, observe, device, gen, config, mode):
    """keeps H x W and matches the reference (depths 1 to 3, channel counts, non-square inputs)"""
    model = make(sub, gen, device, **config).train(mode == "train")
    unit = 2 ** config["depth"]
    x = randn(gen, 2, config["in_channels"], 2 * unit, 3 * unit).to(device)
    out = model(x)
    want = (2, config["out_channels"], 2 * unit, 3 * unit)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == want, (
        f"UNet output shape {tuple(getattr(out, 'shape', ()))} should be (N, out_channels, H, W) = {want}"
    )
    observe(f"{mode}-mode output", out)


def test_defaults(sub, observe, device, gen):
    """uses in_channels=1, out_channels=1, base_channels=8, depth=2 by default"""
    model = make(sub, gen, device).eval()
    x = randn(gen, 1, 1, 8, 8).to(device)
    out = model(x)
    assert tuple(out.shape) == (1, 1, 8, 8), f"UNet() output shape {tuple(out.shape)} should be (1, 1, 8, 8)"
    observe("UNet()(x)", out)


def test_logits_not_probabilities(sub, observe, device, gen):
    """returns raw logits (the head's output, no sigmoid)"""
    model = make(sub, gen, device, base_channels=4, depth=2).eval()
    with torch.no_grad():
        model.head.bias.fill_(-5.0)  # logits well below 0
    out = model(randn(gen, 2, 1, 8, 8).to(device))
    assert (out < 0).any(), "UNet must return logits (the head's raw output, no sigmoid or ReLU): all outputs are >= 0"
    observe("output", out)


def test_gradients(sub, observe, device, gen):
    """passes gradients to every parameter (every module used) and to the input"""
    model = make(sub, gen, device, base_channels=2, depth=2).train()
    x = randn(gen, 2, 1, 8, 4).to(device).requires_grad_(True)
    out = model(x)
    (out * randn(gen, *out.shape).to(device)).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reached {missing}: every documented module must be used in forward"
    observe("x.grad", x.grad)


def test_skip_carries_detail(sub, observe, device, gen):
    """uses the skip connections: the output changes when only the finest encoder features change"""
    for _ in range(5):  # a random tiny U-Net may have its finest features all cut by ReLU: draw again
        model = make(sub, gen, device, base_channels=2, depth=2).eval()
        x = randn(gen, 1, 1, 8, 8).to(device)
        base = model(x)
        with torch.no_grad():
            model.dec[-1][0].weight[:, : model.down[0][0].out_channels] = 0.0  # cut the finest skip's weights
        cut = model(x)
        changed = not torch.allclose(base, cut)
        if changed:
            break
    assert changed, (
        "zeroing the weights that dec[-1] applies to the finest skip (its first input channels) changed nothing: "
        "concatenate the encoder features FIRST, torch.cat([skip, upsampled], dim=1)"
    )
    observe("output without the finest skip", cut)

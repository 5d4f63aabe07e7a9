"""Hidden tests of `augment_batch(x, padding=2, generator=None)`.

Every output image must be exactly one of the 2 (2p + 1)^2 transforms of its own input: zero-pad
by p, crop H x W at offset (dy, dx) in {0..2p}^2, mirror left-right or not. The tests recover each
image's (dy, dx, flip) by comparing with all of them (random inputs make them distinct) and judge
the frequencies over a thousand images: flips about 1/2, each offset value about 1 / (2p + 1) for
rows and columns, offsets and flips varying across the batch. The random numbers must come from
the given generator only; the input is left unchanged.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import load_helpers

pytestmark = pytest.mark.question("augment")

helpers = load_helpers(__file__)
F64, randn = helpers.F64, helpers.randn


def fresh(seed):
    return torch.Generator().manual_seed(seed)


def new_seed(gen):
    """A seed drawn from gen: a generator seeded with gen's own seed would replay the numbers of x."""
    return int(torch.randint(0, 2**62, (1,), generator=gen))


def decode(x, out, padding):
    """(dy, dx, flip) of each output image, or -1 where it is no valid transform of its input."""
    N, C, H, W = x.shape
    padded = F.pad(x, (padding,) * 4)
    n = 2 * padding + 1
    found = torch.full((N, 3), -1, dtype=torch.long)
    for flip in (0, 1):
        for dy in range(n):
            for dx in range(n):
                crop = padded[:, :, dy : dy + H, dx : dx + W]
                crop = crop.flip(-1) if flip else crop
                hit = (crop == out).flatten(1).all(1).cpu()
                found[hit] = torch.tensor([dy, dx, flip])
    return found


def augment(sub, x, padding, generator):
    before = x.clone()
    out = sub.augment_batch(x, padding=padding, generator=generator)
    assert torch.equal(x, before), "augment_batch modified its input: build a new tensor, do not write into x"
    assert isinstance(out, torch.Tensor) and out.shape == x.shape, (
        f"augment_batch must return a tensor of the input's shape {tuple(x.shape)}"
    )
    return out


def check_valid(found):
    bad = int((found[:, 0] < 0).sum())
    assert bad == 0, (
        f"{bad} output image(s) are not a crop of their own zero-padded input (offsets 0..2*padding), mirrored "
        "left-right or not: check the padding, the crop offsets and the flip axis (the last, width axis)"
    )


@pytest.mark.parametrize("padding,shape", [(1, (1000, 1, 5, 5)), (2, (1000, 2, 4, 6)), (3, (1000, 1, 6, 5))],
                         ids=["p1", "p2", "p3"])
def test_frequencies(sub, observe, device, gen, padding, shape):
    """each image is a crop-and-maybe-flip; flips and offsets have the right frequencies"""
    x = randn(gen, *shape).to(device)
    out = augment(sub, x, padding, fresh(new_seed(gen)))
    found = decode(x, out, padding)
    check_valid(found)
    n = 2 * padding + 1
    flip_rate = float(found[:, 2].double().mean())
    rows = torch.bincount(found[:, 0], minlength=n).double() / len(found)
    cols = torch.bincount(found[:, 1], minlength=n).double() / len(found)
    assert abs(flip_rate - 0.5) < 0.1, (
        f"{flip_rate:.1%} of the images were flipped; each should be flipped with probability 1/2"
    )
    assert (rows - 1 / n).abs().max() < 0.08 and (cols - 1 / n).abs().max() < 0.08, (
        f"crop offsets must be uniform over 0..{2 * padding} (each with frequency {1 / n:.2f}); row offsets had "
        f"frequencies {[round(v, 3) for v in rows.tolist()]}, column offsets {[round(v, 3) for v in cols.tolist()]}"
    )
    observe("fraction flipped", flip_rate, atol=0.06)
    observe("row offset frequencies", rows, atol=0.06)
    observe("column offset frequencies", cols, atol=0.06)


def test_per_image_randomness(sub, observe, device, gen):
    """draws an offset and a flip for every image, not one for the batch (many batches of 4)"""
    pairs = []
    for _ in range(40):
        x = randn(gen, 4, 1, 5, 5).to(device)
        found = decode(x, augment(sub, x, 2, fresh(new_seed(gen))), 2)
        check_valid(found)
        pairs.append(found)
    varied = sum(bool((f != f[:1]).any()) for f in pairs)
    flips_mixed = sum(bool(f[:, 2].min() != f[:, 2].max()) for f in pairs)
    assert flips_mixed > 10 and varied > 30, (
        "the images of a batch got the same flip (or the same offset) too often: draw a separate offset and flip "
        "for every image, e.g. torch.randint(..., (N, 2)) and torch.rand(N) < 0.5"
    )
    observe("batches with mixed flips out of 40", flips_mixed, atol=12)


def test_padding_zero_only_flips(sub, observe, device, gen):
    """with padding=0 each image is returned as it is or mirrored"""
    x = randn(gen, 200, 3, 4, 5).to(device)
    found = decode(x, augment(sub, x, 0, fresh(new_seed(gen))), 0)
    check_valid(found)
    observe("fraction flipped", float(found[:, 2].double().mean()), atol=0.15)


def test_generator_is_the_only_randomness(sub, observe, device, gen):
    """draws only from the given generator: same generator state, same output, whatever the global RNG"""
    x = randn(gen, 16, 1, 6, 6).to(device)
    seed = new_seed(gen)
    torch.manual_seed(seed + 1)
    a = augment(sub, x, 2, fresh(seed))
    torch.manual_seed(seed + 2)
    b = augment(sub, x, 2, fresh(seed))
    assert torch.equal(a, b), (
        "two calls with identically seeded generators gave different results: draw every random number from "
        "`generator` (torch.randint(..., generator=generator)), not from the global RNG"
    )
    g = fresh(seed)
    c, d = augment(sub, x, 2, g), augment(sub, x, 2, g)
    assert not torch.equal(c, d), "two calls with the same generator must advance it and give different results"
    observe("reproducible from the generator", True)


def test_default_padding(sub, observe, device, gen):
    """uses padding=2 by default"""
    x = randn(gen, 600, 1, 5, 5).to(device)
    before = x.clone()
    out = sub.augment_batch(x, generator=fresh(new_seed(gen)))
    assert torch.equal(x, before), "augment_batch modified its input"
    found = decode(x, out, 2)
    check_valid(found)
    observe("row offset frequencies", torch.bincount(found[:, 0], minlength=5).double() / len(found), atol=0.07)


def test_dtype(sub, observe, device, gen):
    """keeps the input's dtype (float32)"""
    x = randn(gen, 8, 3, 6, 6, dtype=torch.float32).to(device)
    out = augment(sub, x, 1, fresh(new_seed(gen)))
    assert out.dtype == torch.float32, f"augment_batch of a float32 batch returned {out.dtype}"
    check_valid(decode(x, out, 1))
    observe("dtype", str(out.dtype))


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's 8 hidden tests and 1 public test weigh 1 each), so that augmentation wrong in one part of
# its contract (the offsets, the flips, one draw per image, the generator) keeps at most a third; the tests above
# say which part.
@pytest.mark.question("augment", weight=18)
def test_whole_contract(sub, observe, device, gen):
    """offset and flip frequencies, a draw per image, padding 0, the default padding, the generator"""
    test_frequencies(sub, observe, device, gen, 1, (1000, 1, 5, 5))
    test_per_image_randomness(sub, observe, device, gen)
    test_padding_zero_only_flips(sub, observe, device, gen)
    test_default_padding(sub, observe, device, gen)
    test_generator_is_the_only_randomness(sub, observe, device, gen)

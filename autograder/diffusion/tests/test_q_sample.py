"""Hidden tests of `q_sample(x0, t, noise, alphas_cumprod) -> xt`:
sqrt(ab_t) x0 + sqrt(1 - ab_t) noise per sample, for data of any rank, in x0's dtype and device.
"""


import pytest
import torch

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("q_sample")

SHAPES = [(6,), (5, 2), (4, 3, 5), (3, 1, 8, 8)]


def inputs(gen, shape, dtype, T=50):
    x0 = torch.randn(shape, generator=gen, dtype=F64).to(dtype)
    noise = torch.randn(shape, generator=gen, dtype=F64).to(dtype)
    t = torch.randint(0, T, (shape[0],), generator=gen)
    t[0], t[-1] = 0, T - 1  # both ends of the schedule
    ab = H.alphas_cumprod(H.linear_betas(T, 1e-3, 0.1))
    return x0, t, noise, ab


def run(sub, device, x0, t, noise, ab):
    out = sub.q_sample(x0.to(device), t.to(device), noise.to(device), ab.to(device))
    assert isinstance(out, torch.Tensor) and out.shape == x0.shape, (
        f"q_sample must return a tensor of x0's shape {tuple(x0.shape)}, got "
        f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}: reshape alpha_bar_t to "
        "(B, 1, ..., 1) so that it broadcasts over every data dimension")
    assert out.dtype == x0.dtype, f"q_sample must return x0's dtype {x0.dtype}, got {out.dtype}"
    assert out.device.type == device.type, f"q_sample must return a tensor on x0's device {device}, got {out.device}"
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_values(sub, observe, device, gen, shape, dtype):
    """matches the reference for data of any rank"""
    x0, t, noise, ab = inputs(gen, shape, dtype)
    out = run(sub, device, x0, t, noise, ab)
    observe("x_t", out)
    err = float((out.cpu().to(F64) - H.trusted_q_sample(x0.to(F64), t, noise.to(F64), ab)).abs().max())
    observe("max error against sqrt(ab) x0 + sqrt(1 - ab) noise", err, rtol=0.0, atol=1e-5)


def test_ends_of_the_schedule(sub, observe, device, gen):
    """with alpha_bar = 1 returns x0, with alpha_bar = 0 returns the noise"""
    x0, _, noise, _ = inputs(gen, (4, 3), F64)
    ab = torch.tensor([1.0, 0.5, 0.0], dtype=F64)
    start = run(sub, device, x0, torch.zeros(4, dtype=torch.long), noise, ab).cpu()
    end = run(sub, device, x0, torch.full((4,), 2, dtype=torch.long), noise, ab).cpu()
    assert torch.allclose(start, x0), "with alpha_bar_t = 1 (no noise yet) q_sample must return x0 itself"
    assert torch.allclose(end, noise), "with alpha_bar_t = 0 (all noise) q_sample must return the noise itself"
    observe("x_t at alpha_bar = 1", start)
    observe("x_t at alpha_bar = 0", end)


def test_inputs_unchanged(sub, observe, device, gen):
    """does not modify its inputs"""
    x0, t, noise, ab = inputs(gen, (5, 2), torch.float32)
    copies = [v.clone() for v in (x0, t, noise, ab)]
    run(sub, device, x0, t, noise, ab)
    same = all(torch.equal(a, b) for a, b in zip((x0, t, noise, ab), copies))
    assert same, "q_sample modified one of its inputs in place: return a new tensor"
    observe("inputs unchanged", same)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that code wrong on every input of one kind keeps at most a third; the tests above say which kind.
@pytest.mark.question("q_sample", weight=26)
def test_whole_contract(sub, observe, device, gen):
    """values for images-like data in float32 and float64, inputs left unchanged"""
    test_values(sub, observe, device, gen, (4, 3, 5), torch.float32)
    test_values(sub, observe, device, gen, (4, 3, 5), F64)
    test_inputs_unchanged(sub, observe, device, gen)

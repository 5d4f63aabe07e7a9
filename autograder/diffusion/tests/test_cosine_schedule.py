"""Hidden tests of `cosine_beta_schedule(T, s=0.008, max_beta=0.999) -> betas` (float64, (T,)).

f(t) = cos^2(((t / T + s) / (1 + s)) pi / 2), beta_t = min(1 - f(t + 1) / f(t), max_beta).
"""


import pytest
import torch

from autograder.testing import load_helpers

H = load_helpers(__file__)
F64 = torch.float64

pytestmark = pytest.mark.question("cosine_schedule")


def checked(sub, T, **kwargs):
    betas = sub.cosine_beta_schedule(T, **kwargs)
    assert isinstance(betas, torch.Tensor), f"cosine_beta_schedule must return a tensor, got {type(betas).__name__}"
    assert betas.shape == (T,), f"cosine_beta_schedule({T}) must have shape ({T},), got {tuple(betas.shape)}"
    assert betas.dtype == F64, (
        f"the schedule must be float64 (got {betas.dtype}): compute f(t) in float64, its smallest betas are near "
        "1e-5 and float32 loses their digits")
    return betas.cpu()


@pytest.mark.parametrize("T", [1, 10, 100, 1000])
def test_default_schedule(sub, observe, T):
    """matches the reference with the default offset and clipping"""
    observe(f"betas for T={T}", checked(sub, T))


@pytest.mark.parametrize("s", [0.0, 0.05, 0.3])
def test_offset(sub, observe, s):
    """uses the offset s given"""
    observe(f"betas with s={s}", checked(sub, 50, s=s))


@pytest.mark.parametrize("max_beta", [0.2, 0.5, 0.9])
def test_clipping(sub, observe, max_beta):
    """clips the betas at max_beta"""
    betas = checked(sub, 40, max_beta=max_beta)
    assert float(betas.max()) <= max_beta + 1e-12, (
        f"the largest beta is {float(betas.max()):.6f} > max_beta={max_beta}: clip with min(beta, max_beta)")
    observe(f"betas with max_beta={max_beta}", betas)


@pytest.mark.parametrize("T", [20, 1000])
def test_alpha_bar_is_f_ratio(sub, observe, T):
    """1 - beta multiplies up to alpha_bar_t = f(t + 1) / f(0) (before clipping matters)"""
    betas = checked(sub, T)
    ab = torch.cumprod(1 - betas, dim=0)
    expected = H.alphas_cumprod(H.cosine_betas(T))
    err = float((ab[: T - 1] - expected[: T - 1]).abs().max())
    assert err < 1e-9, (
        f"cumprod(1 - betas) differs from f(t + 1) / f(0) by {err:.3g}: check the cosine (squared), the offset "
        "s in numerator and denominator, and that betas are 1 - f(t + 1) / f(t), not alpha-bar itself")
    observe("max |alpha_bar - f(t+1)/f(0)|", err, rtol=0.0, atol=1e-9)
    observe("alpha_bar", ab)

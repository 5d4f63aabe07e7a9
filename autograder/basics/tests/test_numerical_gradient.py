"""Hidden tests of `numerical_gradient(f, x, h=1e-5)` and `rel_error(a, b)`.

numerical_gradient: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h), x perturbed in place and every
entry put back exactly. rel_error: max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|).

Oracles: autograd on smooth functions (sin, exp, softplus, logsumexp, polynomials), the exact centred
difference of a cubic (3 x^2 + h^2, which tells a centred from a one-sided difference and shows
whether `h` is used), and the relative error computed by the tests. Every test calls f both ways a
gradient check does: with f reading its argument (and returning a 0-d tensor), and with f a closure
that ignores its argument and reads the tensor being checked (returning a Python float), as
`lambda _: model.loss(X, y)[0]` does; and every test checks x afterwards, bit for bit, and rel_error.
"""

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close, expect_equal, load_helpers

pytestmark = pytest.mark.question("numerical_gradient")

H = load_helpers(__file__)
F64, randn = H.F64, H.randn

SMOOTH = {
    "sin-exp": lambda t: (torch.sin(t) * torch.exp(0.5 * t)).sum(),
    "softplus-quadratic": lambda t: F.softplus(2 * t).sum() + 0.5 * (t * t.flip(-1)).sum(),
    "logsumexp": lambda t: torch.logsumexp(1.5 * t.flatten(), dim=0),
    "cubic": lambda t: (t**3 - 2 * t).sum(),
}
CASES = [("sin-exp", (5,)), ("softplus-quadratic", (3, 4)), ("logsumexp", (2, 3, 2)), ("cubic", ()),
         ("cubic", (1,))]


def autograd_gradient(fn, x):
    leaf = x.detach().cpu().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(leaf), leaf)
    return grad


def oracle_rel_error(a, b):
    a, b = a.detach().cpu().to(F64), b.detach().cpu().to(F64)
    ratio = (a - b).abs() / torch.maximum(a.abs() + b.abs(), torch.full_like(a, 1e-8))
    return float(ratio.max())


def call(sub, f, x, **kwargs):
    """The student's numerical gradient, checked for shape, dtype and device, and x for being restored exactly."""
    saved = x.clone()
    grad = sub.numerical_gradient(f, x, **kwargs)
    expect_equal(
        x, saved,
        "numerical_gradient must leave x exactly as it found it: save each entry's value and assign it back "
        "(old + h - h is not exactly old in floating point)", name="x after numerical_gradient")
    ok = bool(isinstance(grad, torch.Tensor) and grad.shape == x.shape)
    assert ok, (
        f"numerical_gradient must return a tensor of x's shape {tuple(x.shape)}, got "
        f"{tuple(grad.shape) if isinstance(grad, torch.Tensor) else type(grad).__name__}")
    ok = bool(grad.dtype == x.dtype and grad.device == x.device)
    assert ok, (
        f"the gradient must have x's dtype and device ({x.dtype}, {x.device}), got ({grad.dtype}, {grad.device})")
    return grad


def both_ways(sub, fn, x, **kwargs):
    """numerical_gradient of fn with f reading its argument, and with f a closure over x (the in-place contract)."""
    by_argument = call(sub, lambda t: fn(t), x, **kwargs)
    by_closure = call(sub, lambda _: float(fn(x)), x, **kwargs)
    return by_argument, by_closure


def check_rel_error(sub, observe, gen, a, what):
    """The student's rel_error of a against a version perturbed by about 1e-3 (relative), against the tests'.

    Three entries of very different magnitudes (about 1e-3, 1 and 30) are appended to a, so that the
    largest entrywise ratio (at the small entry) differs from the mean of the ratios and from the
    largest difference over the largest magnitude, whatever the shape of a (also for one entry).
    """
    extra = randn(gen, 3).to(a.device, a.dtype) * torch.tensor([1e-3, 1.0, 30.0], dtype=a.dtype, device=a.device)
    a = torch.cat([a.flatten(), extra])
    b = a * (1 + 1e-3 * randn(gen, *a.shape).to(a.device)) + 1e-4 * randn(gen, *a.shape).to(a.device)
    r = sub.rel_error(a, b)
    ok = bool(type(r) is float or (type(r) is torch.Tensor and r.numel() == 1))
    assert ok, f"rel_error must return a Python float (or a one-element tensor), got {type(r).__name__}"
    value = float(r)
    expect_close(
        value, oracle_rel_error(a, b),
        f"rel_error({what}) must be the LARGEST over the entries of |a - b| / max(1e-8, |a| + |b|), each entry "
        "divided by its own |a| + |b|", rtol=1e-9, atol=0.0, name="rel_error")
    expect_close(float(sub.rel_error(b, a)), value, "rel_error(a, b) must equal rel_error(b, a)", rtol=1e-12,
                 atol=0.0, name="rel_error(b, a)")
    observe(f"rel_error({what})", value, rtol=1e-9, atol=0.0)


@pytest.mark.parametrize("fn,shape", CASES, ids=[f"{n}-{'x'.join(map(str, s)) or '0d'}" for n, s in CASES])
def test_matches_autograd(sub, observe, device, gen, fn, shape):
    """matches autograd on a smooth function, with f reading x or a closure over x; x restored exactly"""
    x = randn(gen, *shape).to(device)
    exact = autograd_gradient(SMOOTH[fn], x)
    by_argument, by_closure = both_ways(sub, SMOOTH[fn], x)
    expect_close(
        by_argument.cpu(), exact,
        "the centred difference (f(x + h e_i) - f(x - h e_i)) / (2h) with h = 1e-5 is within about 1e-9 of the true "
        "gradient (autograd here); an error near 1e-5 is the O(h) error of a one-sided difference",
        rtol=1e-6, atol=1e-8, name="numerical gradient")
    expect_close(
        by_closure.cpu(), exact,
        "with f = lambda _: ... that reads x itself (as `lambda _: model.loss(X, y)[0]` reads the model's weights), "
        "the gradient must be the same: perturb x IN PLACE (x[idx] = old + h), not a copy of it",
        rtol=1e-6, atol=1e-8, name="numerical gradient (closure)")
    observe("gradient", by_argument, rtol=1e-6, atol=1e-8)
    observe("gradient (closure)", by_closure, rtol=1e-6, atol=1e-8)
    check_rel_error(sub, observe, gen, exact.to(device), "gradient, perturbed gradient")


@pytest.mark.parametrize("h", [1e-2, 3e-3])
def test_step_size(sub, observe, device, gen, h):
    """uses the step h it is given: for a cubic the centred difference is exactly 3 x^2 + h^2"""
    x = randn(gen, 3, 2).to(device)
    cube = lambda t: (t**3).sum()  # noqa: E731
    by_argument, by_closure = both_ways(sub, cube, x, h=h)
    expected = 3 * x.cpu() ** 2 + h**2
    for what, grad in (("f reading x", by_argument), ("closure", by_closure)):
        expect_close(
            grad.cpu(), expected,
            f"for f = sum(x^3) and h = {h}, ((x + h)^3 - (x - h)^3) / (2h) = 3 x^2 + h^2 exactly ({what}); a one-sided "
            "difference gives 3 x^2 + 3 x h + h^2, and ignoring the argument h gives 3 x^2 + 1e-10",
            rtol=1e-9, atol=1e-9, name="numerical gradient")
    observe("gradient", by_argument, rtol=1e-8, atol=1e-9)
    check_rel_error(sub, observe, gen, expected.to(device), "3 x^2 + h^2, perturbed")


def test_float32(sub, observe, device, gen):
    """works for a float32 x (and returns float32), with a step suited to float32"""
    x = randn(gen, 4, dtype=torch.float32).to(device)
    fn = lambda t: (torch.sin(t) * t).sum()  # noqa: E731
    by_argument, by_closure = both_ways(sub, fn, x, h=1e-2)
    exact = autograd_gradient(lambda t: (torch.sin(t) * t).sum(), x.to(F64)).float()
    for what, grad in (("f reading x", by_argument), ("closure", by_closure)):
        expect_close(grad.cpu(), exact,
                     f"in float32 with h = 1e-2 the centred difference is within about 1e-4 of the gradient ({what})",
                     rtol=1e-3, atol=1e-3, name="numerical gradient")
    observe("gradient (float32)", by_argument, rtol=1e-3, atol=1e-3)
    check_rel_error(sub, observe, gen, exact.to(device), "float32 gradient, perturbed")


def test_zero_gradients(sub, observe, device, gen):
    """gives exact zeros where f does not depend on x, and rel_error of two zero entries is 0, not nan"""
    x = randn(gen, 6).to(device)
    fn = lambda t: (t[:3] ** 2).sum() + torch.relu(t[3:] - 10.0).sum()  # noqa: E731 - the last 3 entries: a dead ReLU
    by_argument, by_closure = both_ways(sub, fn, x)
    exact = autograd_gradient(fn, x)
    for grad in (by_argument, by_closure):
        expect_close(grad.cpu(), exact, "entries f does not depend on get a numerical gradient of exactly 0",
                     rtol=1e-6, atol=1e-8, name="numerical gradient")
    r = float(sub.rel_error(exact.to(device), by_argument))
    ok = bool(r == r and r < 1e-6)
    assert ok, (
        f"rel_error(analytic, numerical) = {r} for two gradients that agree, several of whose entries are both exactly "
        "0: the denominator is max(1e-8, |a| + |b|), so 0 / 1e-8 = 0 there, never 0 / 0 = nan")
    zeros = torch.zeros(3, dtype=F64).to(device)
    expect_close(float(sub.rel_error(zeros, zeros)), 0.0, "rel_error of two zero tensors is 0", atol=0.0, rtol=0.0,
                 name="rel_error(0, 0)")
    observe("gradient", by_argument, rtol=1e-6, atol=1e-8)
    observe("rel_error with zero entries is small", r < 1e-6)

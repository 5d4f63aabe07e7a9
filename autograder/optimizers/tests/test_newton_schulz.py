"""Hidden tests of `newton_schulz(G, steps=5, eps=1e-7)`: the quintic iteration of Muon.

X = G / (||G||_F + eps); transpose when rows > cols; `steps` times A = X X^T,
B = b A + c A A, X = a X + B X with (a, b, c) = (3.4445, -4.7750, 2.0315);
transpose back. Computed and returned in G's dtype, same shape.

The result is not U V^T from the SVD (the iteration stops with singular values
spread around 1), so values come from the reference; the invariants that hold
exactly (scale, orthogonal equivariance) are asserted with their own messages.
Inputs have Frobenius norms of several hundred, so that eps is negligible (and
`clamp(min=eps)` instead of `+ eps` would agree) outside the tests about eps.
"""

import pytest
import torch

from autograder.testing import expect_close, expect_equal

pytestmark = pytest.mark.question("newton_schulz")

F64 = torch.float64


def randn(gen, *shape, dtype=F64, scale=100.0):
    return scale * torch.randn(*shape, generator=gen, dtype=dtype)


def singular_values(O):
    """Singular values of O (float64), from the eigenvalues of the smaller Gram matrix."""
    O = O.detach().double().cpu()
    gram = O @ O.T if O.shape[0] <= O.shape[1] else O.T @ O
    return torch.linalg.eigvalsh(gram).clamp(min=0).sqrt()


SHAPES = [(6, 6), (4, 10), (10, 4), (3, 16), (16, 3), (1, 5), (5, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_values(sub, observe, device, shape):
    """matches the reference for square, wide and tall matrices (float64, 5 steps)"""
    gen = torch.Generator().manual_seed(21)
    G = randn(gen, *shape).to(device)
    out = sub.newton_schulz(G)
    assert isinstance(out, torch.Tensor), "newton_schulz must return a tensor"
    assert tuple(out.shape) == shape, (
        f"newton_schulz must return G's shape {shape}, got {tuple(out.shape)}: "
        "if you transposed a tall matrix, transpose the result back"
    )
    assert out.dtype == G.dtype, f"newton_schulz must return G's dtype {G.dtype}, got {out.dtype}"
    observe("newton_schulz(G)", out)


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 10])
def test_steps(sub, observe, device, steps):
    """runs exactly `steps` iterations (0 steps is the normalisation alone)"""
    gen = torch.Generator().manual_seed(22)
    for shape in [(5, 5), (7, 4)]:
        G = randn(gen, *shape).to(device)
        out = sub.newton_schulz(G, steps=steps)
        assert tuple(out.shape) == shape, f"newton_schulz must return G's shape {shape}, got {tuple(out.shape)}"
        observe(f"newton_schulz(G {shape[0]}x{shape[1]}, steps={steps})", out)


def test_float32(sub, observe, device):
    """works in float32 and returns float32"""
    gen = torch.Generator().manual_seed(23)
    for shape in [(8, 8), (6, 12), (12, 6)]:
        G = randn(gen, *shape, dtype=torch.float32).to(device)
        out = sub.newton_schulz(G)
        assert out.dtype == torch.float32, (
            f"newton_schulz must compute and return in G's dtype (float32 here), got {out.dtype}"
        )
        observe(f"newton_schulz(G {shape[0]}x{shape[1]})", out)


def test_bfloat16_keeps_dtype(sub, observe, device):
    """returns bfloat16 for a bfloat16 input, with singular values near 1"""
    gen = torch.Generator().manual_seed(24)
    G = randn(gen, 8, 24).to(torch.bfloat16).to(device)
    out = sub.newton_schulz(G)
    assert out.dtype == torch.bfloat16, f"newton_schulz must return G's dtype (bfloat16 here), got {out.dtype}"
    assert tuple(out.shape) == (8, 24), f"newton_schulz must return G's shape (8, 24), got {tuple(out.shape)}"
    assert torch.isfinite(out.float()).all(), "newton_schulz returned inf or NaN for a bfloat16 input"
    s = singular_values(out)
    assert s.min() > 0.5 and s.max() < 1.5, (
        "after 5 steps the singular values of newton_schulz(G) should sit roughly in [0.7, 1.15]; "
        f"yours are in [{s.min():.3f}, {s.max():.3f}]"
    )
    # bfloat16 rounding differs between correct implementations: observe only the dtype.
    observe("dtype", str(out.dtype))


@pytest.mark.parametrize("shape", [(6, 20), (20, 6), (12, 12)], ids=["wide", "tall", "square"])
def test_singular_values_near_one(sub, observe, device, shape):
    """pushes every singular value of a random matrix close to 1"""
    gen = torch.Generator().manual_seed(25)
    G = randn(gen, *shape).to(device)
    out = sub.newton_schulz(G)
    s = singular_values(out)
    assert s.min() > 0.5 and s.max() < 1.5, (
        "after 5 steps the singular values of newton_schulz(G) should sit roughly in [0.7, 1.15] "
        f"(the quintic is tuned to push them towards 1); yours are in [{s.min():.3f}, {s.max():.3f}]: "
        "check the normalisation by the Frobenius norm and the coefficients (a, b, c)"
    )
    observe("singular values of newton_schulz(G)", s)


@pytest.mark.parametrize("scale", [1e-1, 1e3, 1e6])
def test_scale_invariant(sub, observe, device, scale):
    """does not depend on the scale of G (it normalises by the Frobenius norm first)"""
    gen = torch.Generator().manual_seed(26)
    G = randn(gen, 5, 8, scale=1e3)
    base = sub.newton_schulz(G.to(device))
    scaled = sub.newton_schulz((scale * G).to(device))
    expect_close(
        scaled.cpu(), base.cpu(),
        (f"newton_schulz({scale:g} * G) differs from newton_schulz(G) by "
        f"{(scaled.cpu() - base.cpu()).abs().max():.3g}: divide G by its Frobenius norm (plus eps) "
        "before iterating, so that the result does not depend on the gradient's scale"),
        rtol=1e-4, atol=1e-6
    )
    observe(f"newton_schulz({scale:g} * G)", scaled)


def test_orthogonal_equivariance(sub, observe, device):
    """commutes with rotations: newton_schulz(U G V) = U newton_schulz(G) V"""
    gen = torch.Generator().manual_seed(27)
    G = randn(gen, 5, 7)
    U, _ = torch.linalg.qr(torch.randn(5, 5, generator=gen, dtype=F64))
    V, _ = torch.linalg.qr(torch.randn(7, 7, generator=gen, dtype=F64))
    rotated = sub.newton_schulz((U @ G @ V).to(device)).cpu()
    expected = U @ sub.newton_schulz(G.to(device)).cpu() @ V
    expect_close(
        rotated, expected,
        ("newton_schulz(U G V) must equal U newton_schulz(G) V for orthogonal U, V (the iteration only "
        f"acts on singular values); the largest difference is {(rotated - expected).abs().max():.3g}. "
        "Check that A = X X^T multiplies X from the left (X = a X + B X) and that tall matrices "
        "are transposed and transposed back"),
        rtol=1e-8, atol=1e-10
    )
    observe("newton_schulz(U G V)", rotated)


def test_zero_matrix(sub, observe, device):
    """maps a zero matrix to zeros, not NaN (the + eps in the normalisation)"""
    G = torch.zeros(4, 6, dtype=F64).to(device)
    out = sub.newton_schulz(G)
    assert torch.isfinite(out).all(), (
        "newton_schulz(0) produced NaN or inf: divide by ||G||_F + eps, so that a zero gradient gives a zero update"
    )
    observe("newton_schulz(zeros)", out)


def test_eps_argument(sub, observe, device):
    """normalises by ||G||_F + eps with the eps it was given (eps=0.5)"""
    gen = torch.Generator().manual_seed(28)
    for shape in [(4, 6), (6, 4)]:
        G = randn(gen, *shape)
        G = (G / G.norm()).to(device)  # ||G||_F = 1, so X = G / 1.5
        observe(f"newton_schulz(G {shape[0]}x{shape[1]}, steps=2, eps=0.5)", sub.newton_schulz(G, steps=2, eps=0.5))


def test_does_not_modify_input(sub, observe, device):
    """leaves its input unchanged"""
    gen = torch.Generator().manual_seed(29)
    for shape in [(4, 6), (6, 4)]:
        G = randn(gen, *shape).to(device)
        before = G.clone()
        out = sub.newton_schulz(G)
        expect_equal(
            G, before,
            ("newton_schulz modified its input in place (e.g. G /= norm or X = G; X.div_(...)): "
            "Muon passes its momentum buffer in, so work on a new tensor"),
        )
        observe(f"newton_schulz(G {shape[0]}x{shape[1]})", out)


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points (the question's other 28 tests, public ones included, weigh 1 each), so that a newton_schulz wrong in
# any regime (wide or tall matrices, the number of steps, float32, the eps it is given and a zero matrix, the
# caller's tensor left alone) keeps at most a third; the tests above say which part is wrong.
@pytest.mark.question("newton_schulz", weight=56)
def test_whole_contract(sub, observe, device):
    """wide and tall matrices, a given number of steps, float32, eps (given, and for a zero matrix), input left alone"""
    test_values(sub, observe, device, (4, 10))
    test_values(sub, observe, device, (10, 4))
    test_steps(sub, observe, device, 2)
    test_float32(sub, observe, device)
    test_eps_argument(sub, observe, device)
    test_zero_matrix(sub, observe, device)
    test_does_not_modify_input(sub, observe, device)

"""Hidden tests of `softmax_loss(scores, y) -> (loss, dscores)`.

loss = mean_n -log softmax(scores)[n, y_n]; dscores = (softmax(scores) - onehot(y)) / N.

Oracle: F.cross_entropy and its autograd gradient. Every test checks the loss and dscores (and that
scores was not modified), over batch 1, two classes, many classes, scores of magnitude 1000 and
-1000 (rows shifted by different constants, rows whose scores are a thousand apart), float32, and
once under torch.no_grad(). Invariants: each row of dscores sums to 0; equal scores give log C.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.testing import expect_close, load_helpers

pytestmark = pytest.mark.question("softmax_loss")

H = load_helpers(__file__)
F64, randn, labels, unchanged, as_float, check_shape = H.F64, H.randn, H.labels, H.unchanged, H.as_float, H.check_shape


def oracle(scores, y):
    leaf = scores.detach().cpu().to(F64).requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(leaf, y.cpu())
        (dscores,) = torch.autograd.grad(loss, leaf)
    return float(loss), dscores


def run(sub, scores, y):
    before = {"scores": scores.clone(), "y": y.clone()}
    out = sub.softmax_loss(scores, y)
    ok = bool(isinstance(out, tuple) and len(out) == 2)
    assert ok, "softmax_loss must return the pair (loss, dscores)"
    loss, dscores = out
    loss = as_float(loss, "softmax_loss")
    check_shape(dscores, scores.shape, "dscores (scores' shape (N, C))")
    unchanged(before, {"scores": scores, "y": y}, "softmax_loss")
    ok = bool(math.isfinite(loss) and torch.isfinite(dscores).all())
    assert ok, (
        f"softmax_loss gave a loss of {loss} or a non-finite dscores: exp overflows for large scores (inf / inf = nan) "
        "and log(0) = -inf when a probability underflows. Subtract each row's max before exponentiating and compute "
        "log-probabilities as (s - max) - log(sum(exp(s - max))), never the log of a probability")
    return loss, dscores


def check_against_oracle(observe, got, scores, y, rtol=1e-10, atol=1e-12):
    loss, dscores = got
    want_loss, want_d = oracle(scores, y)
    expect_close(loss, want_loss,
                 "the loss is the MEAN over the batch of -log softmax(scores)[n, y_n] (F.cross_entropy's value)",
                 rtol=rtol, atol=atol, name="loss")
    sums = dscores.sum(dim=1).cpu()
    expect_close(sums, torch.zeros_like(sums), "each row of dscores must sum to 0: (p - onehot(y)) / N",
                 rtol=0.0, atol=max(atol, 1e-12) * 10, name="row sums of dscores")
    expect_close(dscores.cpu(), want_d.to(dscores.dtype),
                 "dscores = (softmax(scores) - onehot(y)) / N: the probabilities, minus 1 at each row's own label, "
                 "divided by the batch size (the gradient of the mean)", rtol=rtol, atol=atol, name="dscores")
    observe("loss", loss, rtol=rtol, atol=atol)
    observe("dscores", dscores, rtol=rtol, atol=atol)


CASES = [(1, 2), (1, 5), (4, 2), (6, 3), (8, 10)]


@pytest.mark.parametrize("N,C", CASES, ids=[f"N{n}-C{c}" for n, c in CASES])
def test_matches_cross_entropy(sub, observe, device, gen, N, C):
    """loss and dscores match F.cross_entropy and autograd"""
    scores, y = randn(gen, N, C, scale=2.0).to(device), labels(gen, N, C).to(device)
    check_against_oracle(observe, run(sub, scores, y), scores, y)


def test_large_scores(sub, observe, device, gen):
    """is finite and exact for scores of magnitude 1000 (positive and negative rows)"""
    scores = randn(gen, 6, 5, scale=3.0)
    scores[:3] += 1000.0
    scores[3:] -= 1000.0
    scores, y = scores.to(device), labels(gen, 6, 5).to(device)
    check_against_oracle(observe, run(sub, scores, y), scores, y, rtol=1e-9, atol=1e-12)


def test_shift_invariance(sub, observe, device, gen):
    """is unchanged when a different constant (up to +-1000) is added to each row"""
    scores, y = randn(gen, 5, 4).to(device), labels(gen, 5, 4).to(device)
    shift = torch.empty(5, 1, dtype=F64).uniform_(-1000.0, 1000.0, generator=gen).to(device)
    base = run(sub, scores, y)
    shifted = run(sub, scores + shift, y)
    expect_close(shifted[0], base[0], "adding a constant to a row of scores must not change the loss", rtol=1e-9,
                 atol=1e-12, name="loss of the shifted scores")
    expect_close(shifted[1].cpu(), base[1].cpu(), "adding a constant to a row of scores must not change dscores",
                 rtol=1e-9, atol=1e-12, name="dscores of the shifted scores")
    check_against_oracle(observe, shifted, scores + shift, y, rtol=1e-9, atol=1e-12)


def test_scores_far_apart(sub, observe, device, gen):
    """is finite when the right class scores 1000 below the best one (its probability underflows to 0)"""
    scores, y = randn(gen, 4, 3).to(device), labels(gen, 4, 3).to(device)
    rows = torch.arange(4, device=device)
    scores[rows, y] -= 1000.0  # p[n, y_n] = exp(-1000) / ... = 0 in floating point; -log p is about 1000
    check_against_oracle(observe, run(sub, scores, y), scores, y, rtol=1e-9, atol=1e-12)


def test_equal_scores(sub, observe, device, gen):
    """gives log C and dscores (1/C - onehot(y)) / N when every score is the same"""
    N, C = 5, 4
    scores = torch.full((N, C), float(torch.randn((), generator=gen, dtype=F64)), dtype=F64).to(device)
    y = labels(gen, N, C).to(device)
    got = run(sub, scores, y)
    expect_close(got[0], math.log(C), f"with equal scores every class has probability 1/C: the loss is log C = "
                 f"{math.log(C):.6f}", rtol=1e-12, atol=1e-12, name="loss")
    check_against_oracle(observe, got, scores, y)


def test_float32(sub, observe, device, gen):
    """keeps float32 scores in float32"""
    scores, y = randn(gen, 6, 4, dtype=torch.float32).to(device), labels(gen, 6, 4).to(device)
    got = run(sub, scores, y)
    ok = bool(got[1].dtype == torch.float32)
    assert ok, f"dscores must stay float32 for float32 scores, got {got[1].dtype}"
    check_against_oracle(observe, got, scores, y, rtol=1e-5, atol=1e-6)


def test_without_autograd(sub, observe, device, gen):
    """computes dscores by hand: works under torch.no_grad() on scores that do not require grad"""
    scores, y = randn(gen, 7, 3).to(device), labels(gen, 7, 3).to(device)
    with torch.no_grad():
        got = run(sub, scores, y)
    ok = bool(not got[1].requires_grad)
    assert ok, "dscores must be a plain tensor: compute it with tensor operations, not autograd"
    check_against_oracle(observe, got, scores, y)

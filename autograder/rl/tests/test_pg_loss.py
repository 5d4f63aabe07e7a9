"""Hidden tests of `policy_gradient_loss(logits, actions, advantages, normalize=True) -> loss`.

loss = -mean(log softmax(logits)[a] * A), A standardised over all its elements when asked (unbiased
std + 1e-8; the std of one element taken as 1), with no gradient into A (checked on every call).
Oracles: the score-function gradient written by hand, d loss / d logits = -(onehot(a) -
softmax(logits)) A / N, and torch.distributions.Categorical. Each test checks both settings of
`normalize`. Random upstream scales; large logits for stability.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("pg_loss")

F64 = torch.float64
MODES = (False, True)


def inputs(gen, shape, A=3, scale=1.0):
    logits = scale * torch.randn(*shape, A, generator=gen, dtype=F64)
    actions = torch.randint(0, A, shape, generator=gen)
    adv = 2.0 * torch.randn(*shape, generator=gen, dtype=F64) + 0.5
    return logits, actions, adv


def call(sub, logits, actions, adv, device, **kw):
    """The loss, with the logits (leaf, gradient wanted) and the advantages (which must get none)."""
    logits = logits.detach().clone().to(device).requires_grad_()
    adv = adv.detach().clone().to(device).requires_grad_()
    loss = sub.policy_gradient_loss(logits, actions.to(device), adv, **kw)
    ok = bool(isinstance(loss, torch.Tensor) and loss.dim() == 0)
    assert ok, "policy_gradient_loss must return a scalar (0-d tensor)"
    if loss.requires_grad:
        (g,) = torch.autograd.grad(loss, adv, retain_graph=True, allow_unused=True)
        ok = bool(g is None or not g.abs().any())
        assert ok, (
            "no gradient may flow into the advantages: they are constants for the policy, "
            "computed from rewards and the critic")
    return loss, logits


def standardised(adv):
    return (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv - adv


@pytest.mark.parametrize("shape", [(9,), (6, 4)], ids=["T", "TxB"])
def test_gradient_is_score_function(sub, observe, device, gen, shape):
    """the gradient is the score-function estimator -(onehot(a) - softmax) A / N, written by hand"""
    logits, actions, adv = inputs(gen, shape)
    score = torch.nn.functional.one_hot(actions, 3).to(F64) - logits.softmax(-1)  # d log pi(a) / d logits
    for normalize in MODES:
        loss, lg = call(sub, logits, actions, adv, device, normalize=normalize)
        upstream = float(torch.empty(()).uniform_(0.5, 2.0, generator=gen))
        (upstream * loss).backward()
        weights = standardised(adv) if normalize else adv
        expect_close(lg.grad.cpu(), -upstream * score * weights[..., None] / actions.numel(),
                     "d loss / d logits = -(onehot(a) - softmax(logits)) * A / N"
                     + (" with A standardised over all its elements (unbiased std)" if normalize else
                        " (normalize=False: A as given)"),
                     rtol=1e-7, atol=1e-10, name="d loss / d logits")
        observe(f"loss (normalize={normalize})", loss)
        observe(f"d loss / d logits (normalize={normalize})", lg.grad)


@pytest.mark.parametrize("shape", [(7, 3), (12,)], ids=["TxB", "T"])
def test_matches_categorical(sub, observe, device, gen, shape):
    """equals -mean(Categorical(logits).log_prob(a) * A), with and without normalising"""
    logits, actions, adv = inputs(gen, shape, A=5)
    for normalize in MODES:
        loss, _ = call(sub, logits, actions, adv, device, normalize=normalize)
        expect_close(loss.cpu(), H.categorical_pg_loss(logits, actions, adv, normalize),
                     f"loss = -mean(log pi(a_t | s_t) A_t) (normalize={normalize})", rtol=1e-9, atol=1e-12, name="loss")
        observe(f"loss (normalize={normalize})", loss)


def test_default_normalizes(sub, observe, device, gen):
    """normalize defaults to True; shifting and scaling the advantages then changes nothing"""
    logits, actions, adv = inputs(gen, (10,))
    loss, _ = call(sub, logits, actions, adv, device)
    loss2, _ = call(sub, logits, actions, 5.0 * adv - 3.0, device)
    expect_close(loss.cpu(), H.categorical_pg_loss(logits, actions, adv, True),
                 "by default the advantages are standardised", rtol=1e-9, atol=1e-12, name="loss")
    expect_close(loss2.cpu(), loss.cpu(), "standardised advantages do not change under A -> 5 A - 3",
                 rtol=1e-7, atol=1e-10, name="loss")
    observe("loss", loss)


def test_one_element(sub, observe, device, gen):
    """a single step: normalising gives zero (its std is taken as 1), not NaN"""
    logits, actions, adv = inputs(gen, (1,))
    loss, _ = call(sub, logits, actions, adv, device, normalize=True)
    ok = bool(torch.isfinite(loss))
    assert ok, (
        "with one advantage, normalising must not divide by a NaN std: take the std of one element as 1")
    loss_raw, _ = call(sub, logits, actions, adv, device, normalize=False)
    observe("normalised loss", loss)
    observe("loss", loss_raw)


def test_large_logits(sub, observe, device, gen):
    """stable for logits of size 1000: finite loss and gradient"""
    logits, actions, adv = inputs(gen, (8,), scale=1000.0)
    for normalize in MODES:
        loss, lg = call(sub, logits, actions, adv, device, normalize=normalize)
        loss.backward()
        ok = bool(torch.isfinite(loss) and torch.isfinite(lg.grad).all())
        assert ok, (
            "log pi must be computed stably (log-softmax, or subtract the max logit): large logits gave inf or NaN")
        expect_close(loss.cpu(), H.categorical_pg_loss(logits, actions, adv, normalize), "the loss for large logits",
                     rtol=1e-9, atol=1e-9, name="loss")
        observe(f"loss (normalize={normalize})", loss)


def test_float32(sub, observe, device, gen):
    """float32 logits give a float32 loss"""
    logits, actions, adv = inputs(gen, (5, 2))
    for normalize in MODES:
        loss, _ = call(sub, logits.float(), actions, adv.float(), device, normalize=normalize)
        ok = bool(loss.dtype == torch.float32)
        assert ok, f"float32 inputs give a float32 loss, got {loss.dtype}"
        observe(f"loss (normalize={normalize})", loss)

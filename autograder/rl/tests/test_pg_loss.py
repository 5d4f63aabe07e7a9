"""Hidden tests of `policy_gradient_loss(logits, actions, advantages, normalize=True) -> loss`.

loss = -mean(log softmax(logits)[a] * A), A standardised over all its elements when asked (unbiased
std + 1e-8; the std of one element taken as 1), with no gradient into A. Oracles: the score-function
gradient written by hand, d loss / d logits = -(onehot(a) - softmax(logits)) A / N, and
torch.distributions.Categorical. Random upstream scales; large logits for stability.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("pg_loss")

F64 = torch.float64


def inputs(gen, shape, A=3, scale=1.0):
    logits = scale * torch.randn(*shape, A, generator=gen, dtype=F64)
    actions = torch.randint(0, A, shape, generator=gen)
    adv = 2.0 * torch.randn(*shape, generator=gen, dtype=F64) + 0.5
    return logits, actions, adv


def call(sub, logits, actions, adv, device, **kw):
    logits = logits.to(device).requires_grad_()
    adv = adv.to(device).requires_grad_()
    loss = sub.policy_gradient_loss(logits, actions.to(device), adv, **kw)
    ok = bool(isinstance(loss, torch.Tensor) and loss.dim() == 0)
    assert ok, "policy_gradient_loss must return a scalar (0-d tensor)"
    return loss, logits, adv


def standardised(adv):
    return (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv - adv


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("shape", [(9,), (6, 4)], ids=["T", "TxB"])
def test_gradient_is_score_function(sub, observe, device, gen, normalize, shape):
    """the gradient is the score-function estimator -(onehot(a) - softmax) A / N, written by hand"""
    logits, actions, adv = inputs(gen, shape)
    loss, lg, a = call(sub, logits, actions, adv, device, normalize=normalize)
    upstream = float(torch.empty(()).uniform_(0.5, 2.0, generator=gen))
    (upstream * loss).backward()
    weights = standardised(adv) if normalize else adv
    score = torch.nn.functional.one_hot(actions, 3).to(F64) - logits.softmax(-1)  # d log pi(a) / d logits
    expected = -upstream * score * weights[..., None] / actions.numel()
    expect_close(lg.grad.cpu(), expected,
                 "d loss / d logits = -(onehot(a) - softmax(logits)) * A / N"
                 + (" with A standardised over all elements (unbiased std)" if normalize else ""),
                 rtol=1e-7, atol=1e-10, name="d loss / d logits")
    ok = bool(a.grad is None or not a.grad.abs().any())
    assert ok, (
        "no gradient may reach the advantages: they are constants for the policy")
    observe("loss", loss)
    observe("d loss / d logits", lg.grad)


@pytest.mark.parametrize("normalize", [False, True])
def test_matches_categorical(sub, observe, device, gen, normalize):
    """equals -mean(Categorical(logits).log_prob(a) * A)"""
    logits, actions, adv = inputs(gen, (7, 3), A=5)
    loss, _, _ = call(sub, logits, actions, adv, device, normalize=normalize)
    expect_close(loss.cpu(), H.categorical_pg_loss(logits, actions, adv, normalize),
                 "loss = -mean(log pi(a_t | s_t) A_t)", rtol=1e-9, atol=1e-12, name="loss")
    observe("loss", loss)


def test_default_normalizes(sub, observe, device, gen):
    """normalize defaults to True; shifting and scaling the advantages then changes nothing"""
    logits, actions, adv = inputs(gen, (10,))
    loss, _, _ = call(sub, logits, actions, adv, device)
    loss2, _, _ = call(sub, logits, actions, 5.0 * adv - 3.0, device)
    expect_close(loss.cpu(), H.categorical_pg_loss(logits, actions, adv, True),
                 "by default the advantages are standardised", rtol=1e-9, atol=1e-12, name="loss")
    expect_close(loss2.cpu(), loss.cpu(), "standardised advantages do not change under A -> 5 A - 3",
                 rtol=1e-7, atol=1e-10, name="loss")
    observe("loss", loss)


def test_one_element(sub, observe, device, gen):
    """a single step: normalising gives zero (its std is taken as 1), not NaN"""
    logits, actions, adv = inputs(gen, (1,))
    loss, _, _ = call(sub, logits, actions, adv, device, normalize=True)
    ok = bool(torch.isfinite(loss))
    assert ok, (
        "with one advantage, normalising must not divide by a NaN std: take the std of one element as 1")
    loss_raw, _, _ = call(sub, logits, actions, adv, device, normalize=False)
    observe("normalised loss", loss)
    observe("loss", loss_raw)


def test_large_logits(sub, observe, device, gen):
    """stable for logits of size 1000: finite loss and gradient"""
    logits, actions, adv = inputs(gen, (8,), scale=1000.0)
    loss, lg, _ = call(sub, logits, actions, adv, device, normalize=False)
    loss.backward()
    ok = bool(torch.isfinite(loss) and torch.isfinite(lg.grad).all())
    assert ok, (
        "log pi must be computed stably (log-softmax, or subtract the max logit): large logits gave inf or NaN")
    expect_close(loss.cpu(), H.categorical_pg_loss(logits, actions, adv, False), "the loss for large logits",
                 rtol=1e-9, atol=1e-9, name="loss")
    observe("loss", loss)


def test_float32(sub, observe, device, gen):
    """float32 logits give a float32 loss"""
    logits, actions, adv = inputs(gen, (5, 2))
    loss, _, _ = call(sub, logits.float(), actions, adv.float(), device)
    ok = bool(loss.dtype == torch.float32)
    assert ok, f"float32 inputs give a float32 loss, got {loss.dtype}"
    observe("loss", loss)

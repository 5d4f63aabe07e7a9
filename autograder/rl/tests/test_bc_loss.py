"""Hidden tests of `behavior_cloning_loss(logits, expert_actions) -> loss`: mean cross-entropy.

Oracles: the cross-entropy's gradient written by hand, d loss / d logits = (softmax - onehot(a)) / N,
and -mean(log(softmax)) in float64 on moderate logits; stability on logits of size 1000 against a
log-sum-exp computed here; (T, B) batches of actions.
"""

import pytest
import torch

from autograder.testing import expect_close

pytestmark = pytest.mark.question("bc_loss")

F64 = torch.float64


def inputs(gen, shape, A=4, scale=1.0):
    return scale * torch.randn(*shape, A, generator=gen, dtype=F64), torch.randint(0, A, shape, generator=gen)


def call(sub, logits, actions, device):
    logits = logits.detach().clone().to(device).requires_grad_()
    loss = sub.behavior_cloning_loss(logits, actions.to(device))
    ok = bool(isinstance(loss, torch.Tensor) and loss.dim() == 0)
    assert ok, "behavior_cloning_loss must return a scalar (0-d tensor)"
    return loss, logits


def oracle(logits, actions):
    """-mean log p(a), with log p = x_a - max x - log sum exp(x - max x) in float64."""
    m = logits.max(-1, keepdim=True).values
    log_p = logits - m - (logits - m).exp().sum(-1, keepdim=True).log()
    return -log_p.gather(-1, actions[..., None]).mean()


@pytest.mark.parametrize("shape", [(10,), (5, 3), (1,)], ids=["N", "TxB", "N=1"])
def test_value_and_gradient(sub, observe, device, gen, shape):
    """equals the mean cross-entropy; its gradient is (softmax - onehot(a)) / N"""
    logits, actions = inputs(gen, shape)
    loss, lg = call(sub, logits, actions, device)
    expect_close(loss.cpu(), oracle(logits, actions), "loss = -mean(log softmax(logits)[expert action])",
                 rtol=1e-9, atol=1e-12, name="loss")
    upstream = float(torch.empty(()).uniform_(0.5, 2.0, generator=gen))
    (upstream * loss).backward()
    expected = upstream * (logits.softmax(-1) - torch.nn.functional.one_hot(actions, 4).to(F64)) / actions.numel()
    expect_close(lg.grad.cpu(), expected, "d loss / d logits = (softmax(logits) - onehot(a)) / N",
                 rtol=1e-7, atol=1e-10, name="d loss / d logits")
    observe("loss", loss)
    observe("d loss / d logits", lg.grad)


def test_large_logits(sub, observe, device, gen):
    """stable for logits of size 1000"""
    logits, actions = inputs(gen, (8,), scale=1000.0)
    loss, lg = call(sub, logits, actions, device)
    loss.backward()
    ok = bool(torch.isfinite(loss) and torch.isfinite(lg.grad).all())
    assert ok, (
        "the log-probabilities must be computed stably (subtract the max logit, or log-sum-exp): "
        "logits of size 1000 gave inf or NaN")
    expect_close(loss.cpu(), oracle(logits, actions), "the loss for large logits", rtol=1e-9, atol=1e-9, name="loss")
    observe("loss", loss)


def test_confident_and_right_is_small(sub, observe, device, gen):
    """a confident correct policy has a loss near 0, a confident wrong one a large loss"""
    actions = torch.randint(0, 4, (6,), generator=gen)
    right = 20.0 * torch.nn.functional.one_hot(actions, 4).to(F64)
    wrong = 20.0 * torch.nn.functional.one_hot((actions + 1) % 4, 4).to(F64)
    small, _ = call(sub, right, actions, device)
    large, _ = call(sub, wrong, actions, device)
    ok = bool(0 <= small.item() < 1e-6 and large.item() > 19)
    assert ok, (
        f"confident and right should cost about 0, confident and wrong about 20; got {small.item():.3g} and "
        f"{large.item():.3g}")
    observe("loss when right", small)
    observe("loss when wrong", large)

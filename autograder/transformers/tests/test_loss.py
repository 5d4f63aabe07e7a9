"""Hidden tests of `lm_loss(logits, tokens, ignore_index=-100)`: next-token cross-entropy.

logits (B, L, V), tokens (B, L): logits[:, t] predicts tokens[:, t + 1], so the targets are
tokens[:, 1:] and the last position predicts nothing; the loss is the mean of
logsumexp(logits[b, t]) - logits[b, t, target] over the (b, t), t in 0..L-2, whose target is
not ignore_index. A 0-dim tensor, stable for huge logits (subtract the max).
"""

import pytest
import torch

from autograder.testing import expect_close

pytestmark = pytest.mark.question("loss")

F64 = torch.float64


def data(seed, B, L, V, dtype=F64, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(B, L, V, generator=gen, dtype=F64)
    tokens = torch.randint(0, V, (B, L), generator=gen)
    return logits.to(dtype), tokens


def loss_of(sub, logits, tokens, **kwargs):
    loss = sub.lm_loss(logits, tokens, **kwargs)
    assert isinstance(loss, torch.Tensor), f"lm_loss must return a tensor, got {type(loss).__name__}"
    assert loss.dim() == 0, (
        f"lm_loss must return a 0-dim tensor (a scalar, e.g. .mean()), got shape {tuple(loss.shape)}"
    )
    assert loss.is_floating_point(), f"lm_loss must return a floating-point tensor, got {loss.dtype}"
    return loss.to(logits.dtype)  # compared in the logits' dtype


@pytest.mark.parametrize("shape", [(2, 5, 7), (3, 2, 4), (1, 9, 13)], ids=["B2_L5_V7", "B3_L2_V4", "B1_L9_V13"])
def test_values(sub, observe, device, shape):
    """matches the reference"""
    logits, tokens = data(701, *shape)
    observe("lm_loss", loss_of(sub, logits.to(device), tokens.to(device)))


def test_shifted_targets(sub, observe, device):
    """scores logits[:, t] against tokens[:, t + 1] (the next token)"""
    _, tokens = data(702, 2, 6, 5)
    logits = 30.0 * torch.nn.functional.one_hot(tokens[:, 1:], 5).to(F64)  # position t is sure of tokens[t + 1]
    logits = torch.cat([logits, torch.zeros(2, 1, 5, dtype=F64)], dim=1)  # the last position predicts nothing
    loss = loss_of(sub, logits.to(device), tokens.to(device))
    assert float(loss) < 1e-6, (
        f"logits that put all their mass on the NEXT token (logits[:, t] on tokens[:, t + 1]) must give a loss "
        f"of about 0, got {float(loss):.4f}: shift, logits[:, :-1] against tokens[:, 1:]"
    )
    observe("lm_loss of perfect next-token logits", loss, atol=1e-8)


def test_ignore_index(sub, observe, device):
    """skips targets equal to ignore_index=-100 (mean over the others)"""
    logits, tokens = data(703, 2, 6, 5)
    tokens[0, 2] = tokens[0, 3] = tokens[1, 5] = -100
    tokens[1, 0] = -100  # never a target: must not matter either
    loss = loss_of(sub, logits.to(device), tokens.to(device))
    # ignored targets (t + 1 in {2, 3} for row 0 and {5} for row 1) must not influence the loss
    changed = logits.clone()
    changed[0, 1] += 5 * torch.randn(5, dtype=F64, generator=torch.Generator().manual_seed(1))
    changed[0, 2] -= 3.0
    changed[1, 4] *= 4.0
    changed[:, 5] = 100.0  # the last position has no target
    loss2 = loss_of(sub, changed.to(device), tokens.to(device))
    expect_close(
        loss, loss2,
        ("changing the logits at positions whose target is ignore_index (and at the last position, which has no "
        "target) changed the loss: drop those positions from the mean"),
    )
    observe("lm_loss with ignored targets", loss)


def test_ignore_index_argument(sub, observe, device):
    """uses the ignore_index it is given (ignore_index=0)"""
    logits, tokens = data(704, 3, 5, 4)
    loss = loss_of(sub, logits.to(device), tokens.to(device), ignore_index=0)
    observe("lm_loss with ignore_index=0", loss)
    tokens[:, 1:3] = -100
    tokens[tokens == 0] = 1
    observe("lm_loss with -100 targets and ignore_index=-100", loss_of(sub, logits.to(device), tokens.to(device)))


def test_mean_not_sum(sub, observe, device):
    """is a mean: repeating the batch does not change it"""
    logits, tokens = data(705, 2, 5, 6)
    tokens[1, 3] = -100
    loss = loss_of(sub, logits.to(device), tokens.to(device))
    twice = loss_of(sub, torch.cat([logits, logits]).to(device), torch.cat([tokens, tokens]).to(device))
    expect_close(
        loss, twice,
        ("the loss of a batch repeated twice must equal the loss of the batch: average over the kept positions, "
        "don't sum"),
    )
    observe("lm_loss", loss)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["float32", "float64"])
def test_large_logits(sub, observe, device, dtype):
    """is finite and exact for logits of size 1e4"""
    logits, tokens = data(706, 2, 5, 6, dtype=dtype, scale=1e4)
    loss = loss_of(sub, logits.to(device), tokens.to(device))
    assert torch.isfinite(loss), (
        "lm_loss overflowed for logits of size 1e4: compute log-softmax as x - max - log(sum(exp(x - max))), "
        "never log(softmax(x)) or exp of the raw logits"
    )
    observe("lm_loss of logits of size 1e4", loss)


def test_gradient(sub, observe, device):
    """is differentiable, with zero gradient at ignored and last positions"""
    logits, tokens = data(707, 2, 6, 5)
    tokens[0, 3] = -100
    logits = logits.to(device).requires_grad_(True)
    loss = loss_of(sub, logits, tokens.to(device))
    loss.backward()
    assert logits.grad is not None, "no gradient reached the logits: keep the loss on the autograd graph"
    assert (logits.grad[:, -1] == 0).all() and (logits.grad[0, 2] == 0).all(), (
        "the last position (no next token) and positions whose target is ignored must get zero gradient"
    )
    observe("logits.grad", logits.grad)


def test_all_ignored_is_nan(sub, observe, device):
    """is nan when no target is left (0 / 0, like F.cross_entropy)"""
    logits, tokens = data(708, 2, 4, 5)
    tokens[:, 1:] = -100
    loss = sub.lm_loss(logits.to(device), tokens.to(device))
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "lm_loss must return a 0-dim tensor"
    observe("loss is nan", bool(torch.isnan(loss)))
    observe("lm_loss with one target", loss_of(sub, logits.to(device), torch.where(
        torch.arange(4) == 2, torch.tensor(3), tokens).to(device)))


def test_rejects_bad_shapes(sub, observe, device):
    """raises ValueError when logits are not (B, L, V) or tokens not (B, L)"""
    logits, tokens = data(709, 2, 4, 5)
    for name, (lg, tk) in {
        "tokens of another length": (logits, tokens[:, :3]),
        "2-D logits": (logits[0], tokens[0]),
        "tokens with another batch size": (logits, tokens[:1]),
    }.items():
        with pytest.raises(ValueError):
            sub.lm_loss(lg.to(device), tk.to(device))
        observe(f"{name} raises ValueError", True)
    observe("lm_loss", loss_of(sub, logits.to(device), tokens.to(device)))


# One contract: this test runs the checks above on one input each and carries two thirds of the question's
# points, so that a loss wrong on every input of one kind (with ignored targets, another ignore_index, large
# logits) keeps at most a third; the tests above say which kind.
@pytest.mark.question("loss", weight=30)
def test_whole_contract(sub, observe, device):
    """values, shifted targets, ignored targets and the ignore_index given, a mean, large logits, shape checks"""
    test_values(sub, observe, device, (2, 5, 7))
    test_shifted_targets(sub, observe, device)
    test_ignore_index(sub, observe, device)
    test_ignore_index_argument(sub, observe, device)
    test_mean_not_sum(sub, observe, device)
    test_large_logits(sub, observe, device, torch.float32)
    test_gradient(sub, observe, device)
    test_all_ignored_is_nan(sub, observe, device)
    test_rejects_bad_shapes(sub, observe, device)

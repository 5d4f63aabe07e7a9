"""Public tests of the rl assignment: run them with check("<question>").

Each test records values with `observe`; they are compared with the reference solution's values
(shipped in snapshots.json). The hidden tests check the same things more thoroughly: more shapes,
batches of one, float32, gradients, independent oracles (per-episode loops, closed forms,
torch.distributions) and, for `train`, short training runs on CartPole.

Questions are graded on their own: reinforce_losses' tests point the names `gae`,
`discounted_returns` and `policy_gradient_loss` at stand-ins (here, recorders of their arguments),
so call those functions BY NAME in it.
"""

import inspect

import pytest
import torch

from autograder.testing import substitute

F64 = torch.float64


def episodes(gen, T, B=None, p_done=0.25):
    """rewards and dones of shape (T,) or (T, B); dones are 0/1 floats with a few episode ends."""
    shape = (T,) if B is None else (T, B)
    rewards = torch.randn(*shape, generator=gen, dtype=F64)
    dones = (torch.rand(*shape, generator=gen) < p_done).to(F64)
    return rewards, dones


# --------------------------------------------------------------------------- returns


@pytest.mark.question("returns")
def test_returns_by_hand(sub, observe, device):
    """gamma = 0.5, rewards (1, 1, 1, 1), dones (0, 1, 0, 0) give (1.5, 1, 1.5, 1)"""
    rewards = torch.ones(4, dtype=F64).to(device)
    dones = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=F64).to(device)
    G = sub.discounted_returns(rewards, dones, 0.5)
    ok = bool(G.shape == rewards.shape)
    assert ok, (
        f"the returns have the rewards' shape (T,) = {tuple(rewards.shape)}")
    ok = bool(torch.allclose(G, torch.tensor([1.5, 1.0, 1.5, 1.0], dtype=F64).to(device)))
    assert ok, (
        f"expected (1.5, 1, 1.5, 1), got {[round(v, 4) for v in G.tolist()]}: G_t = r_t + gamma (1 - done_t) G_(t+1), "
        "and the last step's return is its reward alone")
    observe("G", G)


@pytest.mark.question("returns")
@pytest.mark.parametrize("B", [None, 3], ids=["(T,)", "(T,B)"])
def test_returns(sub, observe, device, gen, B):
    """matches the reference on random episodes, one stream or several"""
    rewards, dones = episodes(gen, 9, B)
    G = sub.discounted_returns(rewards.to(device), dones.to(device), 0.9)
    ok = bool(G.shape == rewards.shape)
    assert ok, (
        f"the returns have the rewards' shape {tuple(rewards.shape)}, got {tuple(G.shape)}")
    observe("G", G)


# --------------------------------------------------------------------------- gae


@pytest.mark.question("gae")
@pytest.mark.parametrize("B", [None, 3], ids=["(T,)", "(T,B)"])
def test_gae(sub, observe, device, gen, B):
    """matches the reference; returns = advantages + values"""
    rewards, dones = episodes(gen, 8, B)
    values = torch.randn(rewards.shape, generator=gen, dtype=F64)
    last = torch.randn(rewards.shape[1:], generator=gen, dtype=F64)
    adv, ret = sub.gae(rewards.to(device), values.to(device), dones.to(device), last.to(device), 0.9, 0.8)
    ok = bool(adv.shape == rewards.shape and ret.shape == rewards.shape)
    assert ok, (
        "advantages and returns have the rewards' shape")
    ok = bool(torch.allclose(ret, adv + values.to(device)))
    assert ok, (
        "returns must be advantages + values")
    observe("advantages", adv)


@pytest.mark.question("gae")
def test_gae_lambda_zero(sub, observe, device, gen):
    """lam = 0 gives the one-step TD errors"""
    rewards, dones = episodes(gen, 6)
    values = torch.randn(6, generator=gen, dtype=F64)
    adv, _ = sub.gae(rewards.to(device), values.to(device), dones.to(device), 0.5, 0.9, 0.0)
    observe("advantages", adv)


# --------------------------------------------------------------------------- pg_loss


@pytest.mark.question("pg_loss")
@pytest.mark.parametrize("normalize", [True, False])
def test_pg_loss(sub, observe, device, gen, normalize):
    """matches the reference, value and gradient; no gradient reaches the advantages"""
    logits = torch.randn(7, 3, generator=gen, dtype=F64).to(device).requires_grad_()
    actions = torch.randint(0, 3, (7,), generator=gen).to(device)
    adv = torch.randn(7, generator=gen, dtype=F64).to(device).requires_grad_()
    loss = sub.policy_gradient_loss(logits, actions, adv, normalize=normalize)
    ok = bool(loss.dim() == 0)
    assert ok, (
        "the loss is a scalar (0-d tensor)")
    loss.backward()
    ok = bool(adv.grad is None or not adv.grad.abs().any())
    assert ok, (
        "the advantages must carry no gradient: they are constants for the policy (detach them)")
    observe("loss", loss)
    observe("d loss / d logits", logits.grad)


# --------------------------------------------------------------------------- bc_loss


@pytest.mark.question("bc_loss")
def test_bc_loss(sub, observe, device, gen):
    """matches the reference, value and gradient"""
    logits = torch.randn(6, 4, generator=gen, dtype=F64).to(device).requires_grad_()
    actions = torch.randint(0, 4, (6,), generator=gen).to(device)
    loss = sub.behavior_cloning_loss(logits, actions)
    ok = bool(loss.dim() == 0 and loss.item() > 0)
    assert ok, (
        "the loss is a positive scalar (a mean of -log probabilities)")
    loss.backward()
    observe("loss", loss)
    observe("d loss / d logits", logits.grad)


# --------------------------------------------------------------------------- dqn_target


@pytest.mark.question("dqn_target")
@pytest.mark.parametrize("double", [False, True], ids=["dqn", "double"])
def test_dqn_targets(sub, observe, device, gen, double):
    """matches the reference, with and without an online network"""
    rewards, dones = episodes(gen, 6, p_done=0.4)
    q_target = torch.randn(6, 3, generator=gen, dtype=F64)
    q_online = torch.randn(6, 3, generator=gen, dtype=F64) if double else None
    y = sub.dqn_targets(rewards.to(device), q_target.to(device), dones.to(device), 0.9,
                        None if q_online is None else q_online.to(device))
    ok = bool(y.shape == (6,))
    assert ok, (
        "the targets have shape (N,)")
    observe("y", y)


# --------------------------------------------------------------------------- train


class Recorder:
    """Stands in for one of the functions reinforce_losses calls: records the arguments it was
    given and returns a simple function of them (not the right answer)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, *args, **kwargs):
        bound = inspect.signature(self.fn).bind(*args, **kwargs)
        bound.apply_defaults()
        self.calls.append(bound.arguments)
        return self.fn(*args, **kwargs)


@pytest.mark.question("train")
def test_reinforce_losses(sub, observe, device, gen):
    """calls gae, discounted_returns and policy_gradient_loss, and combines their outputs as documented"""
    T = 6
    logits = torch.randn(T, 2, generator=gen, dtype=F64).to(device).requires_grad_()
    values = torch.randn(T, generator=gen, dtype=F64).to(device).requires_grad_()
    actions = torch.randint(0, 2, (T,), generator=gen).to(device)
    rewards = torch.ones(T, dtype=F64).to(device)
    dones = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0, 1.0], dtype=F64).to(device)
    fake_gae = Recorder(lambda rewards, values, dones, last_value, gamma, lam: (2 * rewards - values, 3 * rewards))
    fake_returns = Recorder(lambda rewards, dones, gamma: rewards + dones)
    fake_pg = Recorder(lambda logits, actions, advantages, normalize=True: (logits[:, 0] * advantages).sum())
    with substitute(sub, gae=fake_gae, discounted_returns=fake_returns, policy_gradient_loss=fake_pg):
        policy_loss, value_loss = sub.reinforce_losses(logits, values, actions, rewards, dones, 0.9, lam=0.7)
    ok = bool(fake_gae.calls and fake_returns.calls and fake_pg.calls)
    assert ok, (
        "reinforce_losses must call gae, discounted_returns and policy_gradient_loss by name")
    ok = bool(not fake_gae.calls[0]["values"].requires_grad)
    assert ok, (
        "pass values.detach() to gae: the critic is a constant for the policy's advantages")
    (policy_loss + value_loss).backward()
    observe("gamma and lam passed to gae", [float(fake_gae.calls[0]["gamma"]), float(fake_gae.calls[0]["lam"])])
    observe("normalize passed to policy_gradient_loss", bool(fake_pg.calls[0]["normalize"]))
    observe("policy_loss", policy_loss)
    observe("value_loss", value_loss)
    observe("d / d values", values.grad)

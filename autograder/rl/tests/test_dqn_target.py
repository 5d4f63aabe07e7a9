"""Hidden tests of `dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None) -> y`.

y = r + gamma (1 - done) max_a Q_target(s', a); with next_q_online, the double-DQN target
r + gamma (1 - done) Q_target(s', argmax_a Q_online(s', a)). Oracle: a loop over transitions in
plain floats. Invariants: no gradient flows into y; done transitions give the reward alone; double
DQN with the online network equal to the target network is plain DQN.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("dqn_target")

F64 = torch.float64


def loop_targets(rewards, q_target, dones, gamma, q_online=None):
    ys = []
    for i in range(rewards.shape[0]):
        qt = q_target[i].tolist()
        if q_online is None:
            nxt = max(qt)
        else:
            qo = q_online[i].tolist()
            nxt = qt[qo.index(max(qo))]
        ys.append(rewards[i].item() + (0.0 if dones[i] else gamma * nxt))
    return torch.tensor(ys, dtype=F64)


def call(sub, rewards, q_target, dones, gamma, q_online, device):
    """The targets, with Q-values that require a gradient (which must not reach the targets)."""
    q_target = q_target.detach().clone().to(device).requires_grad_()
    q_online = None if q_online is None else q_online.detach().clone().to(device).requires_grad_()
    y = sub.dqn_targets(rewards.to(device), q_target, dones.to(device), gamma, q_online)
    ok = bool(isinstance(y, torch.Tensor) and y.shape == rewards.shape)
    assert ok, (
        f"dqn_targets must return a tensor of the rewards' shape (N,) = {tuple(rewards.shape)}; got "
        f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    ok = bool(not y.requires_grad)
    assert ok, (
        "the targets must carry no gradient: they are regression targets, held fixed (detach them or use no_grad)")
    return y.detach()


def check_both(sub, observe, device, gen, N, A):
    rewards, dones = H.episodes(gen, (N,), p_done=0.4)
    q_target = torch.randn(N, A, generator=gen, dtype=F64)
    q_online = torch.randn(N, A, generator=gen, dtype=F64)
    y = call(sub, rewards, q_target, dones, 0.97, None, device)
    expect_close(y.cpu(), loop_targets(rewards, q_target, dones, 0.97),
                 "y = r + gamma (1 - done) max_a Q_target(s', a)", rtol=1e-12, atol=1e-12, name="y")
    y2 = call(sub, rewards, q_target, dones, 0.97, q_online, device)
    expect_close(y2.cpu(), loop_targets(rewards, q_target, dones, 0.97, q_online),
                 "double DQN: y = r + gamma (1 - done) Q_target(s', argmax_a Q_online(s', a))",
                 rtol=1e-12, atol=1e-12, name="y")
    observe("DQN targets", y)
    observe("double-DQN targets", y2)


@pytest.mark.parametrize("N,A", [(16, 4), (9, 6)])
@pytest.mark.question("dqn_target", weight=5)
def test_matches_loop(sub, observe, device, gen, N, A):
    """matches a loop over transitions (DQN: max of the target net; double: target net at the online argmax)"""
    check_both(sub, observe, device, gen, N, A)


@pytest.mark.parametrize("N,A", [(1, 3), (5, 1)], ids=["one transition", "one action"])
def test_edge_shapes(sub, observe, device, gen, N, A):
    """matches the loop for a single transition and for a single action"""
    check_both(sub, observe, device, gen, N, A)


def test_done_gives_reward(sub, observe, device, gen):
    """a transition that ends the episode has the target r, whatever Q says; boolean dones work"""
    rewards = torch.randn(5, generator=gen, dtype=F64)
    q = 100 * torch.randn(5, 2, generator=gen, dtype=F64)
    y = call(sub, rewards, q, torch.ones(5, dtype=torch.bool), 0.99, None, device)
    expect_close(y.cpu(), rewards, "y = r when the episode ended (done = 1)", rtol=0, atol=1e-12, name="y")
    y2 = call(sub, rewards, q, torch.ones(5, dtype=torch.bool), 0.99, -q, device)
    expect_close(y2.cpu(), rewards, "the double-DQN target is also y = r when done", rtol=0, atol=1e-12, name="y")
    observe("y", y)


def test_double_with_same_network_is_dqn(sub, observe, device, gen):
    """double DQN whose online network equals the target network gives the DQN target"""
    rewards, dones = H.episodes(gen, (10,))
    q = torch.randn(10, 4, generator=gen, dtype=F64)
    y = call(sub, rewards, q, dones, 0.9, None, device)
    y2 = call(sub, rewards, q, dones, 0.9, q.clone(), device)
    expect_close(y2.cpu(), y.cpu(), "with Q_online = Q_target the two targets agree", rtol=0, atol=1e-12, name="y")
    observe("y", y2)


def test_float32(sub, observe, device, gen):
    """float32 in, float32 out"""
    rewards, dones = H.episodes(gen, (7,), dtype=torch.float32)
    q, q_online = torch.randn(7, 3, generator=gen), torch.randn(7, 3, generator=gen)
    for online in (None, q_online):
        y = call(sub, rewards, q, dones, 0.9, online, device)
        ok = bool(y.dtype == torch.float32)
        assert ok, f"float32 inputs give float32 targets, got {y.dtype}"
        observe("DQN targets" if online is None else "double-DQN targets", y)

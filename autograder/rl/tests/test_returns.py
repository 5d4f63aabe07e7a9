"""Hidden tests of `discounted_returns(rewards, dones, gamma) -> G`: G_t = r_t + gamma (1 - done_t) G_(t+1).

Oracle: each episode summed on its own in plain Python floats (gamma^k r_(t+k) up to the episode's
last step). Invariants: gamma = 0 gives the rewards; streams of a (T, B) tensor are independent;
dones may be floats or booleans; the result keeps the rewards' dtype. Inputs from `gen`.
"""

import pytest
import torch

from autograder.testing import expect_close, load_helpers

H = load_helpers(__file__)
pytestmark = pytest.mark.question("returns")

F64 = torch.float64


def call(sub, rewards, dones, gamma):
    G = sub.discounted_returns(rewards, dones, gamma)
    ok = bool(isinstance(G, torch.Tensor) and G.shape == rewards.shape)
    assert ok, (
        f"discounted_returns must return a tensor of the rewards' shape {tuple(rewards.shape)}; got "
        f"{tuple(G.shape) if isinstance(G, torch.Tensor) else type(G).__name__}")
    return G


@pytest.mark.parametrize("shape", [(12,), (10, 4), (1,), (7, 1)], ids=["T", "TxB", "T=1", "B=1"])
def test_matches_episode_loop(sub, observe, device, gen, shape):
    """equals each episode's discounted sum of rewards, stopped at its end"""
    rewards, dones = H.episodes(gen, shape)
    gamma = float(torch.empty(()).uniform_(0.5, 0.99, generator=gen))
    G = call(sub, rewards.to(device), dones.to(device), gamma)
    expect_close(G.cpu(), H.loop_returns(rewards, dones, gamma),
                 "G_t is the discounted sum of the rewards from t to the end of t's episode "
                 "(dones[t] = 1 ends it after step t)",
                 rtol=1e-9, atol=1e-10, name="G")
    observe("G", G)


def test_no_episode_end(sub, observe, device, gen):
    """without an episode end, G_t sums to the last step and G_T = 0 beyond it"""
    rewards = torch.randn(9, generator=gen, dtype=F64)
    G = call(sub, rewards.to(device), torch.zeros(9, dtype=F64).to(device), 0.8)
    expect_close(G.cpu(), H.loop_returns(rewards, torch.zeros(9, dtype=F64), 0.8),
                 "with no done, G_t = sum_k 0.8^k r_(t+k) up to the last step", rtol=1e-9, atol=1e-10, name="G")
    observe("G", G)


def test_episodes_of_two_steps(sub, observe, device, gen):
    """episodes of two steps: G = r_t + gamma r_(t+1) on first steps, r_t on last steps"""
    rewards = torch.randn(8, 2, generator=gen, dtype=F64)
    dones = torch.tensor([0.0, 1.0] * 4, dtype=F64)[:, None].expand(8, 2)
    G = call(sub, rewards.to(device), dones.to(device), 0.7)
    expected = rewards.clone()
    expected[0::2] += 0.7 * rewards[1::2]
    expect_close(G.cpu(), expected,
                 "an episode's last step returns its reward alone; the step before adds gamma times it",
                 rtol=0, atol=1e-12, name="G")
    observe("G", G)


def test_bool_dones_and_float32(sub, observe, device, gen):
    """accepts boolean dones and keeps float32 rewards float32"""
    rewards, dones = H.episodes(gen, (11, 3), dtype=torch.float32)
    G = call(sub, rewards.to(device), dones.bool().to(device), 0.95)
    ok = bool(G.dtype == torch.float32)
    assert ok, (
        f"the returns keep the rewards' dtype float32, got {G.dtype}")
    expect_close(G.double().cpu(), H.loop_returns(rewards, dones, 0.95), "returns with boolean dones",
                 rtol=1e-5, atol=1e-5, name="G")
    observe("G", G)


def test_long_episode_stays_finite(sub, observe, device, gen):
    """a long episode (T = 400, gamma = 0.999) matches the recursion"""
    rewards, dones = H.episodes(gen, (400,), p_done=0.005)
    G = call(sub, rewards.to(device), dones.to(device), 0.999)
    expect_close(G.cpu(), H.loop_returns(rewards, dones, 0.999), "G_t over a long episode",
                 rtol=1e-8, atol=1e-8, name="G")
    observe("G", G)

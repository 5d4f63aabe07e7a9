"""shared.rl: the chain worlds' exact values, CartPole rollouts, the scripted expert and numpy_actor."""

import numpy as np
import pytest
import torch

from shared.rl import ChainWorld, NoisyChain, cartpole_expert, cartpoles, numpy_actor, run_episodes


def test_chain_model_is_a_distribution():
    P, R = ChainWorld(n_states=6, slip=0.3).model()
    np.testing.assert_allclose(P[:-1].sum(-1), 1.0)
    assert not P[-1].any() and not R[-1].any()  # the goal is absorbing and pays nothing more


@pytest.mark.parametrize("slip", [0.0, 0.25])
def test_chain_values_solve_bellman_and_match_value_iteration(slip):
    chain = ChainWorld(n_states=5, slip=slip, step_reward=-0.1)
    pi = np.tile([0.35, 0.65], (5, 1))
    V, Q = chain.values(pi, 0.9)
    P, R = chain.model()
    np.testing.assert_allclose(V, (pi * (R + 0.9 * P @ V)).sum(-1), atol=1e-12)  # Bellman expectation equation
    np.testing.assert_allclose(V, (pi * Q).sum(-1), atol=1e-12)
    v = np.zeros(5)
    for _ in range(2000):  # iterative policy evaluation, an independent route
        v = (pi * (R + 0.9 * P @ v)).sum(-1)
    np.testing.assert_allclose(V, v, atol=1e-10)


def test_chain_episode_ends_at_goal_and_rejects_steps_after():
    chain = ChainWorld(n_states=4, slip=0.0, seed=1)
    states, actions, rewards = chain.episode(np.tile([0.0, 1.0], (4, 1)))
    assert states == [0, 1, 2] and actions == [1, 1, 1] and rewards == [0.0, 0.0, 1.0]
    with pytest.raises(RuntimeError):
        chain.step(1)
    with pytest.raises(ValueError):
        ChainWorld(n_states=1)


def test_noisy_chain_transitions():
    s, a, r, s_next, done = NoisyChain(n_states=4, n_actions=3).transitions(500, torch.Generator().manual_seed(0))
    assert s.shape == a.shape == r.shape == (500,)
    assert torch.equal(done.bool(), s == 3)
    assert torch.equal(s_next[~done.bool()], s[~done.bool()] + 1)
    assert abs(r.mean().item()) < 0.15 and a.max() < 3


def test_run_episodes_lays_episodes_end_to_end():
    ep = run_episodes(cartpoles(3, max_steps=30), lambda o: torch.zeros(o.shape[0], dtype=torch.long), seed=0)
    assert ep.lengths.sum() == len(ep.rewards) == ep.obs.shape[0] == len(ep.actions)
    ends = np.cumsum(ep.lengths) - 1
    assert ep.dones.nonzero().flatten().tolist() == ends.tolist()
    np.testing.assert_allclose(ep.totals, ep.lengths)  # CartPole pays 1 per step


def test_expert_balances_and_random_does_not():
    expert = run_episodes(cartpoles(4), cartpole_expert, seed=123)
    assert (expert.totals == 500).all()
    rng = np.random.default_rng(0)
    random = run_episodes(cartpoles(20), lambda o: torch.from_numpy(rng.integers(0, 2, o.shape[0])), seed=5)
    assert random.totals.mean() < 40


def test_numpy_actor_matches_the_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 3))
    obs = torch.randn(200, 4)
    assert torch.equal(numpy_actor(net)(obs), net(obs).argmax(-1))
    x = torch.randn(1, 4)
    draws = numpy_actor(net, np.random.default_rng(0))(x.expand(20000, 4).contiguous())
    freq = torch.bincount(draws, minlength=3).double() / 20000
    torch.testing.assert_close(freq, net(x).softmax(-1)[0].double().detach(), atol=0.015, rtol=0)
    with pytest.raises(TypeError):
        numpy_actor(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softmax(-1)))

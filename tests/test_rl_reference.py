"""The rl reference solution against independent oracles.

The graded cells of solutions/rl/rl.py are checked against per-episode Python loops (returns, GAE,
DQN targets), closed forms (lam = 0 gives the TD errors, lam = 1 gives the Monte-Carlo return minus
V; gamma = 0 gives the rewards), the exact values of a small MDP solved as a linear system, the
score-function estimator written by hand (the policy-gradient loss's gradient),
torch.nn.functional.cross_entropy (behaviour cloning), and property tests with hypothesis. The
hidden tests inherit these facts when they compare students to the reference. Last, CartPole runs
are reproducible from their seeds, and REINFORCE built on the reference beats a random policy.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.notebook import reference_module
from shared.rl import ChainWorld, cartpoles, numpy_actor, run_episodes

ref = reference_module("rl")

F64 = torch.float64
EXACT = dict(rtol=1e-10, atol=1e-12)


def loop_returns(r, d, gamma):
    """Each episode summed on its own: sum_k gamma^k r_(t+k) up to the step whose done is 1."""
    G = []
    for t in range(len(r)):
        total, w = 0.0, 1.0
        for k in range(t, len(r)):
            total += w * r[k]
            if d[k]:
                break
            w *= gamma
        G.append(total)
    return G


def loop_gae(r, v, d, last, gamma, lam):
    nxt = list(v[1:]) + [last]
    delta = [r[t] + gamma * (0.0 if d[t] else nxt[t]) - v[t] for t in range(len(r))]
    return loop_returns(delta, d, gamma * lam)


trajectories = st.integers(1, 25).flatmap(lambda T: st.tuples(
    st.lists(st.floats(-5, 5), min_size=T, max_size=T),
    st.lists(st.booleans(), min_size=T, max_size=T),
))


# --------------------------------------------------------------------------- returns


@settings(deadline=None, max_examples=80)
@given(traj=trajectories, gamma=st.floats(0.0, 1.0))
def test_returns_match_episode_loop(traj, gamma):
    r, d = traj
    G = ref.discounted_returns(torch.tensor(r, dtype=F64), torch.tensor(d), gamma)
    torch.testing.assert_close(G, torch.tensor(loop_returns(r, d, gamma), dtype=F64), **EXACT)


def test_returns_streams_are_independent():
    g = torch.Generator().manual_seed(0)
    r = torch.randn(15, 4, generator=g, dtype=F64)
    d = (torch.rand(15, 4, generator=g) < 0.3).to(F64)
    G = ref.discounted_returns(r, d, 0.9)
    for b in range(4):
        torch.testing.assert_close(G[:, b], ref.discounted_returns(r[:, b], d[:, b], 0.9), **EXACT)


def test_returns_closed_forms():
    g = torch.Generator().manual_seed(1)
    r = torch.randn(10, generator=g, dtype=F64)
    d = (torch.rand(10, generator=g) < 0.3).to(F64)
    torch.testing.assert_close(ref.discounted_returns(r, d, 0.0), r, **EXACT)  # gamma = 0: the rewards
    no_end = torch.zeros(10, dtype=F64)
    torch.testing.assert_close(ref.discounted_returns(r, no_end, 1.0), r.flip(0).cumsum(0).flip(0), **EXACT)
    # a constant reward 1 forever: G_t = (1 - gamma^(T - t)) / (1 - gamma)
    G = ref.discounted_returns(torch.ones(10, dtype=F64), no_end, 0.9)
    torch.testing.assert_close(G, (1 - 0.9 ** torch.arange(10, 0, -1, dtype=F64)) / 0.1, **EXACT)


def test_mean_return_estimates_exact_value():
    """Averaged over many episodes of a small MDP, G_t at each state approaches V(s) from the Bellman equations."""
    chain = ChainWorld(n_states=4, slip=0.1, step_reward=-0.1, seed=3)
    pi = np.tile([0.4, 0.6], (4, 1))
    V, _ = chain.values(pi, 0.9)
    states, rewards, dones = [], [], []
    for _ in range(4000):
        s, _, r = chain.episode(pi)
        states += s
        rewards += r
        dones += [0.0] * (len(r) - 1) + [1.0]
    G = ref.discounted_returns(torch.tensor(rewards, dtype=F64), torch.tensor(dones, dtype=F64), 0.9).numpy()
    states = np.array(states)
    for s in range(3):
        assert abs(G[states == s].mean() - V[s]) < 0.03, (s, G[states == s].mean(), V[s])


# --------------------------------------------------------------------------- gae


@settings(deadline=None, max_examples=80)
@given(traj=trajectories, gamma=st.floats(0.0, 1.0), lam=st.floats(0.0, 1.0), last=st.floats(-3, 3),
       seed=st.integers(0, 2**16))
def test_gae_matches_episode_loop(traj, gamma, lam, last, seed):
    r, d = traj
    v = torch.randn(len(r), generator=torch.Generator().manual_seed(seed), dtype=F64)
    adv, ret = ref.gae(torch.tensor(r, dtype=F64), v, torch.tensor(d), last, gamma, lam)
    torch.testing.assert_close(adv, torch.tensor(loop_gae(r, v.tolist(), d, last, gamma, lam), dtype=F64),
                               rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(ret, adv + v, **EXACT)


def test_gae_lambda_zero_and_one():
    g = torch.Generator().manual_seed(2)
    r = torch.randn(12, 3, generator=g, dtype=F64)
    v = torch.randn(12, 3, generator=g, dtype=F64)
    d = (torch.rand(12, 3, generator=g) < 0.25).to(F64)
    d[-1] = 1.0
    last = torch.randn(3, generator=g, dtype=F64)
    td, _ = ref.gae(r, v, d, last, 0.95, 0.0)
    torch.testing.assert_close(td, r + 0.95 * (1 - d) * torch.cat([v[1:], last[None]]) - v, **EXACT)
    mc, ret = ref.gae(r, v, d, last, 0.95, 1.0)
    torch.testing.assert_close(mc, ref.discounted_returns(r, d, 0.95) - v, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(ret, ref.discounted_returns(r, d, 0.95), rtol=1e-9, atol=1e-10)


def test_gae_with_exact_values_is_unbiased_advantage():
    """With the true V of a small MDP, the mean of A_t over visits of (s, a) approaches Q(s, a) - V(s) for any lam."""
    chain = ChainWorld(n_states=4, slip=0.2, step_reward=-0.05, seed=5)
    pi = np.tile([0.3, 0.7], (4, 1))
    V, Q = chain.values(pi, 0.9)
    s_all, a_all, r_all, d_all = [], [], [], []
    for _ in range(3000):
        s, a, r = chain.episode(pi)
        s_all += s
        a_all += a
        r_all += r
        d_all += [0.0] * (len(r) - 1) + [1.0]
    s_all, a_all = np.array(s_all), np.array(a_all)
    for lam in (0.0, 0.5, 1.0):
        adv, _ = ref.gae(torch.tensor(r_all, dtype=F64), torch.tensor(V[s_all], dtype=F64),
                         torch.tensor(d_all, dtype=F64), 0.0, 0.9, lam)
        for s in range(3):
            for a in (0, 1):
                mask = (s_all == s) & (a_all == a)
                assert abs(adv.numpy()[mask].mean() - (Q[s, a] - V[s])) < 0.04, (lam, s, a)


# --------------------------------------------------------------------------- pg_loss


@settings(deadline=None, max_examples=50)
@given(T=st.integers(1, 12), A=st.integers(1, 5), normalize=st.booleans(), seed=st.integers(0, 2**16))
def test_pg_gradient_is_score_function(T, A, normalize, seed):
    """d loss / d logits is the score-function estimator -(1/T) sum_t A_t grad log pi(a_t | s_t), by hand."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, A, generator=g, dtype=F64, requires_grad=True)
    actions = torch.randint(0, A, (T,), generator=g)
    adv = torch.randn(T, generator=g, dtype=F64, requires_grad=True)
    ref.policy_gradient_loss(logits, actions, adv, normalize=normalize).backward()
    w = adv.detach()
    if normalize:
        w = (w - w.mean()) / (w.std() + 1e-8) if T > 1 else w - w
    p = logits.detach().softmax(-1)
    expected = torch.zeros(T, A, dtype=F64)
    for t in range(T):
        for j in range(A):
            expected[t, j] = -w[t] * ((1.0 if j == actions[t] else 0.0) - p[t, j]) / T
    torch.testing.assert_close(logits.grad, expected, rtol=1e-8, atol=1e-12)
    assert adv.grad is None


def test_pg_loss_is_unbiased_policy_gradient():
    """For a bandit, E_a~pi[-grad loss] with A = reward is the exact gradient of E[reward]."""
    logits = torch.tensor([0.3, -0.2, 0.5], dtype=F64, requires_grad=True)
    reward = torch.tensor([1.0, 2.0, -0.5], dtype=F64)
    exact = torch.autograd.grad((logits.softmax(-1) * reward).sum(), logits)[0]
    probs = logits.softmax(-1).detach()
    est = torch.zeros(3, dtype=F64)
    for a in range(3):  # the expectation over a ~ pi of the one-sample estimator -grad loss
        loss = ref.policy_gradient_loss(logits[None], torch.tensor([a]), reward[a:a + 1], normalize=False)
        est += probs[a] * -torch.autograd.grad(loss, logits)[0]
    torch.testing.assert_close(est, exact, rtol=1e-10, atol=1e-12)


def test_pg_loss_matches_categorical_on_batches_and_large_logits():
    g = torch.Generator().manual_seed(4)
    logits = 1000 * torch.randn(6, 3, 4, generator=g, dtype=F64)
    actions = torch.randint(0, 4, (6, 3), generator=g)
    adv = torch.randn(6, 3, generator=g, dtype=F64)
    w = (adv - adv.mean()) / (adv.std() + 1e-8)
    expected = -(torch.distributions.Categorical(logits=logits).log_prob(actions) * w).mean()
    torch.testing.assert_close(ref.policy_gradient_loss(logits, actions, adv), expected, **EXACT)


# --------------------------------------------------------------------------- bc_loss


@settings(deadline=None, max_examples=50)
@given(N=st.integers(1, 12), A=st.integers(1, 6), scale=st.sampled_from([1.0, 30.0, 1000.0]),
       seed=st.integers(0, 2**16))
def test_bc_loss_is_cross_entropy(N, A, scale, seed):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(N, A, generator=g, dtype=F64)
    actions = torch.randint(0, A, (N,), generator=g)
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    ours, theirs = ref.behavior_cloning_loss(a, actions), F.cross_entropy(b, actions)
    torch.testing.assert_close(ours, theirs, **EXACT)
    ours.backward()
    theirs.backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-12)


def test_bc_loss_on_time_by_batch():
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(5, 3, 4, generator=g, dtype=F64)
    actions = torch.randint(0, 4, (5, 3), generator=g)
    torch.testing.assert_close(ref.behavior_cloning_loss(logits, actions),
                               F.cross_entropy(logits.reshape(-1, 4), actions.reshape(-1)), **EXACT)


# --------------------------------------------------------------------------- dqn_target


@settings(deadline=None, max_examples=50)
@given(N=st.integers(1, 10), A=st.integers(1, 5), gamma=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_dqn_targets_match_loop(N, A, gamma, seed):
    g = torch.Generator().manual_seed(seed)
    r = torch.randn(N, generator=g, dtype=F64)
    d = torch.rand(N, generator=g) < 0.3
    qt = torch.randn(N, A, generator=g, dtype=F64, requires_grad=True)
    qo = torch.randn(N, A, generator=g, dtype=F64, requires_grad=True)
    y = ref.dqn_targets(r, qt, d, gamma)
    y2 = ref.dqn_targets(r, qt, d, gamma, qo)
    assert not y.requires_grad and not y2.requires_grad
    for i in range(N):
        best = max(qt[i].tolist())
        pick = int(np.argmax(qo[i].tolist()))
        assert y[i].item() == pytest.approx(r[i].item() + (0.0 if d[i] else gamma * best), abs=1e-12)
        assert y2[i].item() == pytest.approx(r[i].item() + (0.0 if d[i] else gamma * qt[i, pick].item()), abs=1e-12)


def test_double_dqn_reduces_overestimation():
    """On noisy zero-value Q estimates, E[max] > 0 while the double estimate is unbiased (independent noise)."""
    g = torch.Generator().manual_seed(6)
    q1, q2 = torch.randn(20000, 8, generator=g, dtype=F64), torch.randn(20000, 8, generator=g, dtype=F64)
    zeros = torch.zeros(20000, dtype=F64)
    assert ref.dqn_targets(zeros, q1, zeros, 1.0).mean() > 1.2  # E[max of 8 N(0,1)] is about 1.42
    assert abs(ref.dqn_targets(zeros, q1, zeros, 1.0, q2).mean()) < 0.03


# --------------------------------------------------------------------------- train


def test_reinforce_losses_combine_the_parts():
    g = torch.Generator().manual_seed(7)
    T = 9
    logits = torch.randn(T, 2, generator=g, dtype=F64, requires_grad=True)
    values = torch.randn(T, generator=g, dtype=F64, requires_grad=True)
    actions = torch.randint(0, 2, (T,), generator=g)
    r = torch.randn(T, generator=g, dtype=F64)
    d = torch.tensor([0, 0, 1, 0, 0, 0, 1, 0, 1], dtype=F64)
    pl, vl = ref.reinforce_losses(logits, values, actions, r, d, 0.9, lam=0.8)
    adv = torch.tensor(loop_gae(r.tolist(), values.tolist(), d.tolist(), 0.0, 0.9, 0.8), dtype=F64)
    G = torch.tensor(loop_returns(r.tolist(), d.tolist(), 0.9), dtype=F64)
    w = (adv - adv.mean()) / (adv.std() + 1e-8)
    expected = -(torch.distributions.Categorical(logits=logits.detach()).log_prob(actions) * w).mean()
    torch.testing.assert_close(pl.detach(), expected, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(vl.detach(), ((values.detach() - G) ** 2).mean(), **EXACT)
    (g_values,) = torch.autograd.grad(pl, values, allow_unused=True)
    assert g_values is None or not g_values.abs().any(), "the policy loss must not move the critic"


def test_cartpole_runs_are_reproducible():
    policy = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    runs = [run_episodes(cartpoles(3), numpy_actor(policy, np.random.default_rng(11)), seed=5) for _ in range(2)]
    for a, b in zip(runs[0].__dict__.values(), runs[1].__dict__.values()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_reinforce_on_reference_beats_random():
    """Ten updates of REINFORCE with a baseline already beat a random policy's 22 steps on average."""
    torch.manual_seed(0)
    policy = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    critic = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    opt = torch.optim.Adam([*policy.parameters(), *critic.parameters()], lr=0.02)
    envs, rng = cartpoles(16, 200), np.random.default_rng(0)
    for it in range(12):
        ep = run_episodes(envs, numpy_actor(policy, rng), seed=100 * it)
        pl, vl = ref.reinforce_losses(policy(ep.obs), critic(ep.obs).squeeze(-1), ep.actions, ep.rewards, ep.dones,
                                      0.99, lam=0.95)
        opt.zero_grad()
        (pl + vl / 100).backward()
        opt.step()
    score = run_episodes(cartpoles(16, 200), numpy_actor(policy), seed=7).totals.mean()
    assert score > 40, score

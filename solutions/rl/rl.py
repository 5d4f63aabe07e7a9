# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reinforcement learning: returns, advantages, policy gradients, imitation and Q-learning targets
#
# In supervised learning someone hands us the right answer for every input. In reinforcement
# learning (RL) an *agent* acts in an *environment*, and all it gets back is a number, the
# reward, often long after the action that earned it. This notebook builds the few tensor
# computations every deep-RL algorithm is made of, checks each one on a tiny world where the true
# answers can be computed exactly, and then uses them to balance a pole on a cart.
#
# **Learning goals.** By the end you can
#
# 1. compute discounted returns over a batch of trajectories in which episodes end at different
#    times, and check them against the exact values of a small Markov decision process;
# 2. compute generalised advantage estimates (GAE) and say why $\lambda$ trades bias for variance;
# 3. derive the policy-gradient theorem with the log-derivative trick, write its loss, and train a
#    CartPole policy with REINFORCE and a learned value baseline (and measure how much the baseline
#    reduces the variance of the gradient);
# 4. clone a scripted expert with a cross-entropy loss and see its errors compound (and fix them with DAgger);
# 5. write DQN and double-DQN targets and measure the over-estimation that double DQN removes.
#
# **How this notebook works.** Cells whose first line is `# GRADED: <question>` are graded; write
# your code between the lines the template marks, keep the signatures, and run `check("<question>")`
# right after to run the public tests. Only graded cells and cells made only of `import` statements
# run when grading: a graded cell must not use variables defined in experiment cells. The
# experiments are not graded but you need them for the written questions.
#
# **Run time.** On a 2-core CPU the whole notebook needs about 40 s of CPU time on one thread, half
# of it in the nine CartPole REINFORCE runs (Gymnasium's pure-Python physics, stepped a few hundred
# thousand times); measured end to end on a shared 2-core machine busy with other jobs it took 3 to
# 4 minutes, so expect about a minute on an idle laptop. A GPU does not help here: the networks are
# tiny and the environment runs on the CPU. Set the environment variable `COURSE_SMOKE=1` before
# starting Jupyter to run every experiment at a tiny size (seconds).
#
# **Notation.** Shapes use these letters:
#
# | letter | meaning |
# | --- | --- |
# | `T` | time steps (several episodes laid end to end) |
# | `B` | parallel environments (a trajectory tensor is `(T,)` or `(T, B)`) |
# | `A` | number of discrete actions |
# | `D` | observation size (4 for CartPole) |
# | `N` | a batch of transitions (for Q-learning) |
#
# **Conventions.** `dones[t] = 1` means the episode ended *after* step $t$: the reward $r_t$
# still counts, but nothing after step $t$ belongs to the same episode. Several episodes are laid
# end to end along time; a `(T, B)` tensor holds `B` such streams side by side.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from autograder import check, require
from shared import describe_device, get_device, seed_everything
from shared.rl import ChainWorld, NoisyChain, cartpole_expert, cartpoles, numpy_actor, run_episodes

# %%
SMOKE = os.environ.get("COURSE_SMOKE") == "1"  # tiny experiments (CI, quick checks)
device = get_device("auto")
SEED = 0
seed_everything(SEED)
torch.set_num_threads(1)  # tiny networks: a second thread only adds synchronisation
F64 = torch.float64
print(f"device={describe_device(device)}  smoke={SMOKE}")

# %% [markdown]
# ## 1. Markov decision processes and discounted returns
#
# A Markov decision process (MDP) has states $s$, actions $a$, transition probabilities
# $P(s' \mid s, a)$ and rewards $r(s, a)$. A policy $\pi(a \mid s)$ picks actions; one episode is a
# trajectory $\tau = (s_0, a_0, r_0, s_1, a_1, r_1, \dots)$ that stops at a terminal state. The
# **discounted return** from step $t$ (the *reward-to-go*) is
#
# $$
# G_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots = r_t + \gamma\, G_{t+1},
# $$
#
# and the **value** of a state is its expected return, $V^\pi(s) = \mathbb{E}_\pi[G_t \mid s_t = s]$.
# With several episodes end to end, the recursion must stop at each episode's end: the return of
# the last step of an episode is its reward alone,
#
# $$
# G_t = r_t + \gamma\,(1 - \mathrm{done}_t)\, G_{t+1}, \qquad G_T = 0 \text{ (past the last step)} .
# $$
#
# Compute it *backwards* in time, one step per iteration (a loop over `T` is fine: each iteration
# works on all `B` streams at once). Do not write $\gamma^t$ powers from the start of the tensor:
# they ignore where episodes start and end.
#
# A hand-checkable case, $\gamma = 0.5$: rewards $(1, 1, 1, 1)$ with dones $(0, 1, 0, 0)$ give
# $G = (1.5, 1, 1.5, 1)$: the first episode is steps 0 and 1; steps 2 and 3 belong to an episode
# that the tensor cuts off (nothing is known after step 3, so $G_4 = 0$).

# %%
# GRADED: returns
def discounted_returns(rewards, dones, gamma):
    """Reward-to-go G_t = r_t + gamma (1 - done_t) G_{t+1}, with G_T = 0 past the last step.

    rewards: (T,) or (T, B) float; dones: same shape, 1 (or True) where an episode ended after step t;
    gamma: float in [0, 1]. Returns G with the shape and dtype of rewards.
    """
    not_done = 1.0 - dones.to(rewards.dtype)  # (T, ...)
    # BEGIN SOLUTION
    G = torch.zeros_like(rewards[0])  # (...,): G_T = 0
    out = []
    for t in reversed(range(rewards.shape[0])):
        G = rewards[t] + gamma * not_done[t] * G
        out.append(G)
    return torch.stack(out[::-1])  # (T, ...)
    # END SOLUTION


# %%
check("returns")

# %% [markdown]
# ### Experiment: Monte-Carlo returns estimate the value function
#
# `ChainWorld` is a corridor of five states; the agent starts on the left, the goal is on the
# right (reward 1 on arrival, -0.05 for every other step), and with probability `slip` a move goes
# the wrong way. Because it is tiny, its value function can be computed *exactly* by solving the
# Bellman equations $V = r_\pi + \gamma P_\pi V$ as a linear system. Averaging the returns $G_t$ of
# many sampled episodes over the visits to each state should give the same numbers.

# %%
require("returns")
GAMMA_CHAIN = 0.9
chain = ChainWorld(n_states=5, slip=0.2, step_reward=-0.05, seed=SEED)
pi_chain = np.tile([0.3, 0.7], (chain.n_states, 1))  # (S, 2): 70% right
V_exact, Q_exact = chain.values(pi_chain, GAMMA_CHAIN)


def chain_episodes(n):
    """n episodes of the chain under pi_chain, end to end: states, actions, rewards, dones (T,)."""
    s_all, a_all, r_all, d_all = [], [], [], []
    for _ in range(n):
        s, a, r = chain.episode(pi_chain)
        s_all += s
        a_all += a
        r_all += r
        d_all += [0.0] * (len(r) - 1) + [1.0]
    return (torch.tensor(s_all), torch.tensor(a_all), torch.tensor(r_all, dtype=F64), torch.tensor(d_all, dtype=F64))


n_chain = 300 if SMOKE else 3000
states, actions, rewards, dones = chain_episodes(n_chain)
G = discounted_returns(rewards, dones, GAMMA_CHAIN)  # (T,)
visits = torch.bincount(states, minlength=chain.n_states).clamp(min=1)
V_mc = torch.zeros(chain.n_states, dtype=F64).index_add_(0, states, G) / visits  # mean return per state
fig, ax = plt.subplots(figsize=(6, 3.5))
x = np.arange(chain.goal)
ax.bar(x - 0.2, V_exact[:-1], width=0.4, label="exact (Bellman equations)")
ax.bar(x + 0.2, V_mc[:-1].numpy(), width=0.4, label=f"mean of G_t over {n_chain} episodes")
ax.set_xlabel("state")
ax.set_ylabel("V(s)")
ax.set_title("Monte-Carlo returns estimate the value function")
ax.legend()
plt.show()
print(f"{len(rewards)} steps; max |V_mc - V_exact| = {np.abs(V_mc[:-1].numpy() - V_exact[:-1]).max():.3f}")

# %% [markdown]
# ## 2. Advantages and generalised advantage estimation
#
# The **advantage** $A^\pi(s, a) = Q^\pi(s, a) - V^\pi(s)$ says how much better action $a$ is than
# the policy's average in state $s$. Given an estimate $V$ of the value function, the one-step
# temporal-difference (TD) error
#
# $$
# \delta_t = r_t + \gamma\,(1 - \mathrm{done}_t)\, V(s_{t+1}) - V(s_t)
# $$
#
# is an advantage estimate with little variance (one reward) but biased by any error in $V$;
# $G_t - V(s_t)$ is unbiased but carries the noise of every later reward. GAE (Schulman et al.,
# "High-dimensional continuous control using generalized advantage estimation", 2016, Eq. 16)
# blends all $k$-step estimates with weights $\lambda^k$:
#
# $$
# \hat A_t = \sum_{k \ge 0} (\gamma\lambda)^k \delta_{t+k}
#        = \delta_t + \gamma\lambda\,(1 - \mathrm{done}_t)\, \hat A_{t+1}, \qquad
# \text{returns}_t = \hat A_t + V(s_t).
# $$
#
# $\lambda = 0$ gives $\delta_t$; $\lambda = 1$ gives $G_t - V(s_t)$ (when the last episode
# ends inside the tensor). The value after the last step, $V(s_T)$, is `last_value` (a float, a
# 0-d tensor, or one value per stream `(B,)`); it is used only if the last episode has not ended.
# The episode-end mask multiplies the *next* value and the *next* advantage: nothing flows back
# across an episode boundary.

# %%
# GRADED: gae
def gae(rewards, values, dones, last_value, gamma, lam):
    """Generalised advantage estimation (Schulman et al. 2016).

    delta_t = r_t + gamma (1 - done_t) V_{t+1} - V_t, with V_T = last_value;
    A_t = delta_t + gamma lam (1 - done_t) A_{t+1}, A_T = 0; returns = A + values.

    rewards, values, dones: (T,) or (T, B); last_value: float, 0-d or (B,) tensor.
    Returns (advantages, returns), both shaped like rewards.
    """
    not_done = 1.0 - dones.to(values.dtype)  # (T, ...)
    last_value = torch.as_tensor(last_value, dtype=values.dtype, device=values.device).expand_as(values[0])
    # BEGIN SOLUTION
    next_values = torch.cat([values[1:], last_value.unsqueeze(0)])  # (T, ...): V_{t+1}
    deltas = rewards + gamma * not_done * next_values - values  # (T, ...)
    A = torch.zeros_like(deltas[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        A = deltas[t] + gamma * lam * not_done[t] * A
        out.append(A)
    advantages = torch.stack(out[::-1])  # (T, ...)
    return advantages, advantages + values
    # END SOLUTION


# %%
check("gae")

# %% [markdown]
# ### Experiment: $\lambda$ as a bias-variance dial
#
# On the chain world $Q^\pi$ is known exactly. We hand GAE a *wrong* value function $V$ (the exact
# one plus a fixed error of about 0.15 per state, as a learned critic would be). Whatever the
# baseline, the quantity an advantage estimate should match is $Q^\pi(s_t, a_t) - V(s_t)$ with *our*
# $V$ subtracted (any state baseline leaves the policy gradient unbiased). We measure, over
# thousands of steps, how far the estimates are from it on average (squared bias) and how much
# they scatter (variance).

# %%
require("gae")
rng_err = np.random.default_rng(SEED)
V_wrong = torch.tensor(V_exact + 0.15 * rng_err.standard_normal(chain.n_states), dtype=F64)
V_wrong[chain.goal] = 0.0  # the terminal state's value is known
A_true = torch.tensor(Q_exact, dtype=F64)[states, actions] - V_wrong[states]  # (T,): Q(s, a) - our baseline
pair = states * 2 + actions  # which (s, a) each step is
lams = [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0]
bias2, variance = [], []
for lam in lams:
    A_hat, _ = gae(rewards, V_wrong[states], dones, 0.0, GAMMA_CHAIN, lam)
    err = A_hat - A_true
    counts = torch.bincount(pair, minlength=2 * chain.n_states).clamp(min=1).to(F64)
    mean_err = torch.zeros(2 * chain.n_states, dtype=F64).index_add_(0, pair, err) / counts  # per (s, a)
    bias2.append((mean_err[pair] ** 2).mean().item())
    variance.append(((err - mean_err[pair]) ** 2).mean().item())
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(lams, bias2, "o-", label="squared bias")
ax.plot(lams, variance, "s-", label="variance")
ax.set_xlabel("lambda")
ax.set_ylabel("mean over steps")
ax.set_title("GAE with an imperfect critic: bias falls, variance rises with lambda")
ax.legend()
plt.show()
for lam, b, v in zip(lams, bias2, variance):
    print(f"lambda={lam:4.2f}  bias^2={b:.4f}  variance={v:.4f}")

# %% [markdown]
# ## 3. The policy-gradient theorem and REINFORCE
#
# We want to maximise $J(\theta) = \mathbb{E}_{\tau \sim \pi_\theta}[R(\tau)]$, but the expectation is
# over trajectories the policy itself generates, so we cannot backpropagate through the sampling.
# The **log-derivative trick** $\nabla_\theta p_\theta = p_\theta \nabla_\theta \log p_\theta$ moves
# the gradient inside:
#
# $$
# \nabla_\theta J = \nabla_\theta \int p_\theta(\tau) R(\tau)\, d\tau
# = \int p_\theta(\tau)\, \nabla_\theta \log p_\theta(\tau)\, R(\tau)\, d\tau
# = \mathbb{E}_{\tau}\big[\nabla_\theta \log p_\theta(\tau)\, R(\tau)\big] .
# $$
#
# Since $p_\theta(\tau) = p(s_0)\prod_t \pi_\theta(a_t \mid s_t) P(s_{t+1} \mid s_t, a_t)$, only the
# policy terms depend on $\theta$: $\nabla_\theta \log p_\theta(\tau) = \sum_t \nabla_\theta \log
# \pi_\theta(a_t \mid s_t)$, and the environment's dynamics drop out. An action cannot change the
# rewards that came before it (causality), so $R(\tau)$ can be replaced by the reward-to-go $G_t$,
# and any function $b(s_t)$ of the state can be subtracted, because
# $\mathbb{E}_{a \sim \pi}[\nabla_\theta \log \pi_\theta(a \mid s)]\, b(s) = \nabla_\theta \sum_a \pi_\theta(a \mid s)\, b(s) = \nabla_\theta 1 \cdot b(s) = 0$.
# The result, with $A_t$ any advantage estimate ($G_t - V(s_t)$, or GAE):
#
# $$
# \nabla_\theta J = \mathbb{E}\Big[\sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, A_t\Big] .
# $$
#
# In code this is a *surrogate loss* whose gradient is the estimator:
# $L(\theta) = -\frac{1}{T}\sum_t \log \pi_\theta(a_t \mid s_t)\, A_t$, where the advantages are
# **constants** (no gradient flows into them: they come from the critic and the rewards, not from
# the policy). For a categorical policy, $\log \pi_\theta(a \mid s) = \mathrm{log\_softmax}(\text{logits})_a$
# (compute it stably: logits of size 1000 must not overflow). With `normalize=True`, first standardise the advantages
# over *all* their elements, $A \leftarrow (A - \mathrm{mean}(A)) / (\mathrm{std}(A) + 10^{-8})$, with
# torch's default (unbiased) `std`; a single advantage has no spread, so its std is taken as 1.
# Standardising keeps the step size sane whatever the scale of the rewards.

# %%
# GRADED: pg_loss
def policy_gradient_loss(logits, actions, advantages, normalize=True):
    """The REINFORCE surrogate loss -mean_t(log pi(a_t | s_t) * A_t) for a categorical policy.

    logits: (..., A) with gradient; actions: (...) long; advantages: (...) (no gradient flows into them).
    normalize: standardise the advantages over all elements first, (A - mean) / (std + 1e-8) with the
    unbiased std (std of a single element taken as 1). Returns a scalar.
    """
    # BEGIN SOLUTION
    adv = advantages.detach()
    if normalize:
        std = adv.std() if adv.numel() > 1 else torch.ones((), dtype=adv.dtype, device=adv.device)
        adv = (adv - adv.mean()) / (std + 1e-8)
    log_probs = logits.log_softmax(dim=-1)  # (..., A), stable
    chosen = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)  # (...)
    return -(chosen * adv).mean()
    # END SOLUTION


# %%
check("pg_loss")

# %% [markdown]
# ### REINFORCE with a value baseline
#
# One update of REINFORCE with a learned baseline, on a batch of **complete** episodes laid end to
# end (so `dones[-1] = 1`):
#
# 1. advantages from `gae(rewards, values.detach(), dones, 0, gamma, lam)` (the critic is a
#    constant for the policy; with complete episodes `last_value` is never used);
# 2. `policy_loss = policy_gradient_loss(logits, actions, advantages)` (normalised);
# 3. the critic regresses onto the Monte-Carlo returns $G_t$ from `discounted_returns`:
#    `value_loss` $= \frac1T\sum_t (V(s_t) - G_t)^2$ (no factor 1/2).
#
# Call `gae`, `discounted_returns` and `policy_gradient_loss` **by name**: the tests swap in trusted
# versions to check this function on its own, then train a CartPole policy with your whole stack.

# %%
# GRADED: train
def reinforce_losses(logits, values, actions, rewards, dones, gamma, lam=1.0):
    """REINFORCE with a value baseline on complete episodes laid end to end.

    logits: (T, A) policy outputs; values: (T,) critic outputs V(s_t) (both with gradient);
    actions: (T,) long; rewards, dones: (T,). Returns (policy_loss, value_loss), two scalars.
    """
    # BEGIN SOLUTION
    advantages, _ = gae(rewards, values.detach(), dones, torch.zeros_like(values[-1]), gamma, lam)
    returns = discounted_returns(rewards, dones, gamma)  # (T,), Monte-Carlo targets for the critic
    policy_loss = policy_gradient_loss(logits, actions, advantages)
    value_loss = ((values - returns) ** 2).mean()
    return policy_loss, value_loss
    # END SOLUTION


# %%
check("train")

# %% [markdown]
# ### Experiment: CartPole with and without a baseline
#
# `CartPole-v1` (Gymnasium, classic control): push a cart left or right to keep a pole upright;
# reward 1 per step until the pole falls or the cart leaves the track. A random policy lasts about
# 22 steps. We cap episodes at 200 steps here to keep the runs short. The policy and the critic are
# two small MLPs; each iteration plays a batch of episodes in parallel environments, then takes one
# Adam step on `policy_loss + value_loss / 100` (the critic's squared errors are in units of returns
# squared, up to $10^4$: the factor keeps the two terms comparable).
#
# Three ways to weight $\nabla \log \pi$: the plain return $G_t$ (the normalisation still subtracts
# the batch mean, a constant baseline), $G_t - V(s_t)$ ($\lambda = 1$), and GAE with $\lambda = 0.95$.
# Each runs from a few seeds; we plot the mean score of the batches over training. (Acting uses
# `numpy_actor`, a NumPy copy of the policy: calling a tiny torch network once per environment step
# costs more than the physics.)

# %%
require("returns", "gae", "pg_loss", "train")
RL = dict(iters=25, n_envs=16, max_steps=200, gamma=0.99, lr=0.02, hidden=32, seeds=3)
if SMOKE:
    RL.update(iters=3, n_envs=4, max_steps=50, seeds=1)


def mlp(n_out, hidden=RL["hidden"]):
    return nn.Sequential(nn.Linear(4, hidden), nn.Tanh(), nn.Linear(hidden, n_out))


def run_reinforce(mode, seed, desc):
    """Train a policy with advantages 'G' (no critic), 'G-V' (lam = 1) or 'GAE' (lam = 0.95)."""
    seed_everything(seed)
    policy, critic = mlp(2), mlp(1)
    opt = torch.optim.Adam([*policy.parameters(), *critic.parameters()], lr=RL["lr"])
    envs, rng = cartpoles(RL["n_envs"], RL["max_steps"]), np.random.default_rng(seed)
    scores = []
    for it in (bar := tqdm(range(RL["iters"]), desc=desc, mininterval=1.0, leave=False)):
        ep = run_episodes(envs, numpy_actor(policy, rng), seed=seed * 100_000 + it * RL["n_envs"])
        logits, values = policy(ep.obs), critic(ep.obs).squeeze(-1)
        if mode == "G":
            G_batch = discounted_returns(ep.rewards, ep.dones, RL["gamma"])
            policy_loss = policy_gradient_loss(logits, ep.actions, G_batch)
            value_loss = torch.zeros(())
        else:
            policy_loss, value_loss = reinforce_losses(logits, values, ep.actions, ep.rewards, ep.dones, RL["gamma"],
                                                       lam=1.0 if mode == "G-V" else 0.95)
        opt.zero_grad(set_to_none=True)
        (policy_loss + value_loss / 100).backward()
        opt.step()
        scores.append(ep.totals.mean())
        bar.set_postfix(score=f"{scores[-1]:.0f}", refresh=False)
    return np.array(scores), policy, critic


t0 = time.perf_counter()
curves, trained = {}, {}
for mode in ("G", "G-V", "GAE"):
    runs = [run_reinforce(mode, s, f"{mode} seed {s}") for s in range(RL["seeds"])]
    curves[mode] = np.stack([r[0] for r in runs])  # (seeds, iters)
    trained[mode] = runs[0][1:]
print(f"{3 * RL['seeds']} runs in {time.perf_counter() - t0:.0f} s")
fig, ax = plt.subplots(figsize=(7, 3.8))
for mode, c in curves.items():
    line, = ax.plot(c.mean(0), label=f"A = {mode}")
    ax.fill_between(range(c.shape[1]), c.min(0), c.max(0), color=line.get_color(), alpha=0.15)
ax.axhline(22, color="grey", ls="--", lw=0.8, label="random policy")
ax.set_xlabel("iteration (one batch of episodes)")
ax.set_ylabel("mean episode length")
ax.set_title(f"REINFORCE on CartPole (mean and range over {RL['seeds']} seeds)")
ax.legend()
plt.show()

# %% [markdown]
# ### Experiment: how noisy is the gradient estimate?
#
# Take the policy and critic trained above (with $G - V$) and freeze them. Play many small
# batches of 2 episodes, and for each compute the policy gradient $\hat g$ with different
# advantages (unnormalised, so that only the baseline differs). The total variance
# $\sum_i \mathrm{Var}(\hat g_i)$ over batches says how many episodes an update needs for a
# given accuracy; all estimators but $\lambda < 1$ have the same mean.

# %%
require("returns", "gae", "pg_loss")
policy, critic = trained["G-V"]
n_batches = 5 if SMOKE else 40
grads = {k: [] for k in ("G", "G - V", "GAE 0.95", "GAE 0.5", "TD (lam=0)")}
envs, rng = cartpoles(2, RL["max_steps"]), np.random.default_rng(SEED)
for b in tqdm(range(n_batches), desc="gradient samples", mininterval=1.0):
    ep = run_episodes(envs, numpy_actor(policy, rng), seed=10_000 + 2 * b)
    with torch.no_grad():
        values = critic(ep.obs).squeeze(-1)
    G_ep = discounted_returns(ep.rewards, ep.dones, RL["gamma"])
    advs = {"G": G_ep, "G - V": G_ep - values}
    for lam, name in ((0.95, "GAE 0.95"), (0.5, "GAE 0.5"), (0.0, "TD (lam=0)")):
        advs[name] = gae(ep.rewards, values, ep.dones, 0.0, RL["gamma"], lam)[0]
    for name, adv in advs.items():
        policy.zero_grad()
        policy_gradient_loss(policy(ep.obs), ep.actions, adv, normalize=False).backward()
        grads[name].append(torch.cat([p.grad.flatten() for p in policy.parameters()]))
total_var = {k: torch.stack(v).var(dim=0).sum().item() for k, v in grads.items()}
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.bar(list(total_var), list(total_var.values()))
ax.set_yscale("log")
ax.set_ylabel("total variance of the gradient")
ax.set_title(f"policy-gradient variance over {n_batches} batches of 2 episodes")
plt.show()
for k, v in total_var.items():
    print(f"{k:>11}: {v:.3g}")

# %% [markdown]
# # GRADED: written_baseline
# **Baselines and $\lambda$.** Compare the learning curves and the variance plot. Why does
# subtracting $V(s_t)$ leave the expected gradient unchanged, and why does it reduce the variance
# so much here (think of the sign and size of $G_t$ in CartPole)? What do you lose by lowering
# $\lambda$ towards 0, and when would you still do it? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# Subtracting a baseline $b(s)$ adds $-\mathbb{E}_a[\nabla\log\pi(a \mid s)]\,b(s)$, which is zero
# because the probabilities sum to one, so the mean gradient is unchanged. In CartPole every reward is
# +1, so $G_t$ is large and positive for every action (up to about 86 with $\gamma = 0.99$ and 200
# steps): without a baseline every sampled action is pushed up, and only the small differences between
# these large numbers carry information. In our run the measured total variance was about 28 with $G$,
# 20 with $G - V$ (the critic is still rough after 25 updates, so it removes only part of the
# state-dependent spread), 1.5 with GAE at $\lambda = 0.95$ and below 0.03 for $\lambda \le 0.5$; the
# three learning curves are close, because the normalisation in the loss already subtracts the batch
# mean (a constant baseline) and 16 episodes per update average much of the noise away. Lowering
# $\lambda$ cuts the variance because fewer random rewards enter each estimate, but the estimate then
# leans on the critic's $V(s_{t+1})$, whose errors become bias, as the chain-world plot shows (squared
# bias falls from 0.0015 at $\lambda = 0$ to 0 at $\lambda = 1$ while the variance grows fivefold);
# $\lambda$ around 0.9 to 0.97 is the usual compromise, and a small $\lambda$ pays off when episodes are
# long and the critic is good.
# END SOLUTION

# %% [markdown]
# ## 4. Imitation: behaviour cloning, compounding errors and DAgger
#
# When an expert can show us what to do, we can skip rewards altogether: **behaviour cloning**
# treats the expert's state-action pairs as a supervised dataset and minimises the cross-entropy
#
# $$
# L(\theta) = -\frac{1}{N}\sum_{i} \log \pi_\theta(a^\star_i \mid s_i) .
# $$
#
# `logits` are `(..., A)` and `expert_actions` `(...)`; average over all of them. Compute the
# log-probabilities stably yourself (`F.cross_entropy` and `F.nll_loss` are not allowed here).

# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    """Mean cross-entropy -mean(log softmax(logits)[expert action]).

    logits: (..., A); expert_actions: (...) long. Returns a scalar.
    """
    # BEGIN SOLUTION
    log_probs = logits - logits.logsumexp(dim=-1, keepdim=True)  # (..., A), stable
    return -log_probs.gather(-1, expert_actions.unsqueeze(-1)).squeeze(-1).mean()
    # END SOLUTION


# %%
check("bc_loss")

# %% [markdown]
# ### Experiment: a cloned expert, and where its errors come from
#
# `cartpole_expert` is a scripted controller (a linear rule in the four observations) that balances
# for the full 500 steps. We record two of its episodes, cut short after 20 steps (40 labelled
# states), and clone it with a small MLP. Two error rates tell the story: how often the clone disagrees with
# the expert on held-out **expert** states (what supervised learning measures), and how often it
# disagrees on the states **it visits itself** (what matters). A small error on the first drives
# the clone into states the expert never visited, where the error is larger: errors compound, and
# the loss in return grows faster than linearly in the episode length (Ross and Bagnell, 2010).
#
# **DAgger** (Ross, Gordon and Bagnell, 2011) fixes the mismatch: run the clone, ask the expert what
# it would have done in the states the clone visited, add those labels to the dataset, retrain. We
# run a few rounds as an extension (not graded), each adding one episode of up to 100 steps driven
# by the clone, and compare with behaviour cloning given as many labels from the expert's own
# (20-step) episodes.

# %%
require("bc_loss")
BC = dict(demo_episodes=2, demo_steps=20, steps=300, lr=1e-2, eval_envs=8, dagger_rounds=4, dagger_steps=100)
if SMOKE:
    BC.update(steps=30, eval_envs=2, dagger_rounds=1)


def fit_clone(obs, acts, desc):
    seed_everything(SEED)
    net = mlp(2)
    opt = torch.optim.Adam(net.parameters(), lr=BC["lr"])
    for _ in tqdm(range(BC["steps"]), desc=desc, mininterval=1.0, leave=False):
        loss = behavior_cloning_loss(net(obs), acts)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net


def disagreement(net, obs):
    with torch.no_grad():
        return (net(obs).argmax(-1) != cartpole_expert(obs)).float().mean().item()


demos = run_episodes(cartpoles(BC["demo_episodes"], BC["demo_steps"]), cartpole_expert, seed=1)
held_out = run_episodes(cartpoles(4), cartpole_expert, seed=500)
eval_envs = cartpoles(BC["eval_envs"])
clone = fit_clone(demos.obs, demos.actions, "behaviour cloning")
own = run_episodes(eval_envs, numpy_actor(clone), seed=900)
print(f"{len(demos.actions)} expert steps; clone scores {own.totals.mean():.0f} (expert: 500)")
print(f"disagreement with the expert on expert states {disagreement(clone, held_out.obs):.1%}, "
      f"on the clone's own states {disagreement(clone, own.obs):.1%}")

scores = {"behaviour cloning": [own.totals.mean()], "DAgger": [own.totals.mean()]}
labels = [len(demos.actions)]
obs_d, act_d, net_d, obs_bc = demos.obs, demos.actions, clone, demos.obs
for r in range(BC["dagger_rounds"]):
    visited = run_episodes(cartpoles(1, BC["dagger_steps"]), numpy_actor(net_d), seed=2000 + r)  # the clone drives
    obs_d = torch.cat([obs_d, visited.obs])
    act_d = torch.cat([act_d, cartpole_expert(visited.obs)])  # the expert labels the clone's states
    net_d = fit_clone(obs_d, act_d, f"DAgger round {r + 1}")
    n_demos = -(-len(act_d) // BC["demo_steps"])  # BC with as many expert labels, from the expert's own states
    more = run_episodes(cartpoles(n_demos, BC["demo_steps"]), cartpole_expert, seed=1)
    net_bc = fit_clone(more.obs, more.actions, f"BC, {len(more.actions)} labels")
    labels.append(len(act_d))
    scores["DAgger"].append(run_episodes(eval_envs, numpy_actor(net_d), seed=900).totals.mean())
    scores["behaviour cloning"].append(run_episodes(eval_envs, numpy_actor(net_bc), seed=900).totals.mean())
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, s in scores.items():
    ax.plot(labels, s, "o-", label=name)
ax.axhline(500, color="grey", ls="--", lw=0.8, label="expert")
ax.set_xlabel("expert-labelled states")
ax.set_ylabel("mean episode length")
ax.set_title("cloning the CartPole expert")
ax.legend()
plt.show()
for name, s in scores.items():
    print(f"{name:>17}: " + "  ".join(f"{n} labels -> {v:.0f}" for n, v in zip(labels, s)))

# %% [markdown]
# # GRADED: written_compounding
# **Compounding errors.** Report the two disagreement rates and the clone's score. Why is the
# disagreement on the clone's own states larger than on expert states, and why does a per-step
# error $\epsilon$ cost more than $\epsilon T$ steps of reward over an episode of length $T$? What does
# DAgger change about the training distribution, and what does it need from the expert that
# behaviour cloning does not? (4 to 6 sentences.)
#
# BEGIN SOLUTION
# The clone trained on two 20-step demonstrations (40 labelled states) disagreed with the expert on
# 29% of the states of full-length expert episodes (which also go beyond step 20) but on 36% of the
# states it visited itself, and balanced
# for only 94 steps on average against the expert's 500. The demonstrations only cover the
# states near upright and near the centre that the expert passes through in its first 20 steps; once
# the clone makes a mistake it drifts (the cart moves off centre, the pole leans further) into states
# no demonstration showed, where its guesses are worse, so each error makes the next more likely.
# Ross and Bagnell show that a per-step error $\epsilon$ on the expert's distribution can cost
# $O(\epsilon T^2)$ over $T$ steps, not $O(\epsilon T)$, because an early error changes the
# distribution of every later state. DAgger trains on the states the learner itself reaches,
# labelled with what the expert would do there, so the training and test distributions match and the
# bound becomes linear in $T$; in our run its clone went from 94 to 244, 356 and then 500 steps over
# three rounds (100 labels each). On this easy task (the expert is a linear rule and every episode
# starts somewhere else) more expert demonstrations fix the clone even faster: behaviour cloning on
# about 100 labels from six 20-step expert episodes already balanced for 500 steps. So the plot shows
# DAgger repairing the distribution mismatch, not beating BC label for label; DAgger pays off when
# demonstrations are expensive or cannot reach the states the learner gets into. Its price is an expert
# that can be queried interactively in arbitrary states (a scripted controller, a planner, a human on call), not
# just a fixed set of recorded demonstrations.
# END SOLUTION

# %% [markdown]
# ## 5. Q-learning targets and over-estimation
#
# A Q-network $Q_\phi(s, a)$ estimates the return of taking $a$ in $s$ and acting greedily after.
# DQN (Mnih et al., 2015) regresses it onto the target
#
# $$
# y = r + \gamma\,(1 - \mathrm{done}) \max_{a'} Q_{\bar\phi}(s', a'),
# $$
#
# computed with a **target network** $\bar\phi$, a copy of $\phi$ refreshed every few hundred steps,
# and treated as a constant (no gradient flows through $y$). The max is a problem: the max of noisy
# estimates is biased upwards, $\mathbb{E}[\max_a \hat Q(s, a)] \ge \max_a \mathbb{E}[\hat Q(s, a)]$,
# and bootstrapping propagates the bias from state to state. **Double DQN** (van Hasselt, Guez and
# Silver, 2016) picks the action with the online network and evaluates it with the target network,
#
# $$
# y = r + \gamma\,(1 - \mathrm{done})\, Q_{\bar\phi}\big(s', \arg\max_{a'} Q_\phi(s', a')\big),
# $$
#
# so the noise that selected the action is not the noise that values it. `next_q_target` and
# `next_q_online` are `(N, A)`, the rest `(N,)`; when `next_q_online` is `None`, use the DQN target.

# %%
# GRADED: dqn_target
def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    """y = r + gamma (1 - done) max_a Q_target(s', a); with next_q_online, the double-DQN target
    r + gamma (1 - done) Q_target(s', argmax_a Q_online(s', a)). No gradient flows through y.

    rewards, dones: (N,); next_q_target, next_q_online: (N, A). Returns y (N,).
    """
    # BEGIN SOLUTION
    with torch.no_grad():
        if next_q_online is None:
            next_value = next_q_target.max(dim=-1).values  # (N,)
        else:
            best = next_q_online.argmax(dim=-1, keepdim=True)  # (N, 1): chosen by the online network
            next_value = next_q_target.gather(-1, best).squeeze(-1)  # (N,): valued by the target network
        return rewards + gamma * (1.0 - dones.to(rewards.dtype)) * next_value
    # END SOLUTION


# %%
check("dqn_target")

# %% [markdown]
# ### Experiment: over-estimation on a noisy chain
#
# `NoisyChain`: four states in a row, eight actions that all move one state right and all pay a
# reward drawn from $N(0, 1)$; the episode ends after the last state. Every true Q-value is exactly
# **zero**. We run tabular Q-learning from random transitions, with a target table refreshed every
# 100 updates, once with DQN targets and once with double-DQN targets, and watch the average of
# the first state's Q-values, $\frac18\sum_a Q(s_0, a)$, which should be 0. (We average rather than
# take the max, so that the plot measures the bias the *targets* put into the table, not the bias
# of reading it with a max.)

# %%
require("dqn_target")
QL = dict(updates=3000, batch=32, lr=0.1, gamma=0.95, sync=100, seeds=5)
if SMOKE:
    QL.update(updates=300, seeds=2)
noisy = NoisyChain(n_states=4, n_actions=8, noise=1.0)


def q_learning(double, seed):
    gen = torch.Generator().manual_seed(seed)
    q = torch.zeros(noisy.n_states, noisy.n_actions, dtype=F64)
    q_target = q.clone()
    trace = []
    for k in range(QL["updates"]):
        s, a, r, s_next, done = noisy.transitions(QL["batch"], gen)
        y = dqn_targets(r, q_target[s_next], done, QL["gamma"], q[s_next] if double else None)
        counts = torch.zeros_like(q).index_put_((s, a), torch.ones_like(y), accumulate=True)
        step = torch.zeros_like(q).index_put_((s, a), y - q[s, a], accumulate=True)
        q += QL["lr"] * step / counts.clamp(min=1)  # move each visited entry towards its mean target
        if (k + 1) % QL["sync"] == 0:
            q_target = q.clone()
        trace.append(q[0].mean().item())
    return np.array(trace)


fig, ax = plt.subplots(figsize=(7, 3.5))
final = {}
for double, name in ((False, "DQN target"), (True, "double-DQN target")):
    traces = np.stack([q_learning(double, s) for s in tqdm(range(QL["seeds"]), desc=name, leave=False)])
    ax.plot(traces.mean(0), label=name)
    final[name] = traces[:, -500:].mean()
ax.axhline(0.0, color="grey", ls="--", lw=0.8, label="true value")
ax.set_xlabel("update")
ax.set_ylabel("mean_a Q(s_0, a)")
ax.set_title(f"mean Q-value of the first state's actions (true: 0), over {QL['seeds']} seeds")
ax.legend()
plt.show()
for name, v in final.items():
    print(f"{name:>17}: mean_a Q(s_0, a) = {v:+.3f} over the last 500 updates (true 0)")

# %% [markdown]
# # GRADED: written_overestimation
# **Over-estimation.** Describe the two curves. Why is the DQN estimate of the first state's
# Q-values above zero although every true value is zero, and why does the error grow along the chain
# (think about what the target of state 0 is built from)? What does double DQN change, and why does
# it not remove the bias entirely when the online and target tables are close? (3 to 5 sentences.)
#
# BEGIN SOLUTION
# With DQN targets the mean Q-value of the first state climbs to about +0.8 and stays there,
# while with double-DQN targets it settles near +0.07, ten times closer to the truth, although every true value is zero. Each
# entry of the table is a noisy average of rewards, so the maximum over eight entries of the next
# state picks whichever happened to be estimated too high:
# $\mathbb{E}[\max_a \hat Q] > \max_a \mathbb{E}[\hat Q] = 0$. The target of state 0 contains
# $\gamma \max_a \hat Q(s_1, a)$, whose entries were themselves built from the biased maxima of
# states 2 and 3, so the bias accumulates backwards along the chain through bootstrapping. Double
# DQN picks the argmax with the online table and reads its value from the target table, whose noise
# is partly independent of the noise that made the action look best, so the selected entry is much
# less systematically too high. The target table is a lagged copy of the online one (refreshed every
# 100 updates), so their errors are correlated and some bias remains; van Hasselt's original double
# Q-learning removes it by training two independent tables.
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * Returns and advantages are backward recursions that must stop at every episode end:
#   $G_t = r_t + \gamma(1 - d_t)G_{t+1}$, $\hat A_t = \delta_t + \gamma\lambda(1 - d_t)\hat A_{t+1}$.
# * GAE's $\lambda$ interpolates between one-step TD ($\lambda = 0$, low variance, biased by the
#   critic) and Monte Carlo minus a baseline ($\lambda = 1$, unbiased, noisy).
# * The log-derivative trick turns $\nabla \mathbb{E}[R]$ into $\mathbb{E}[\nabla \log\pi \cdot A]$; the
#   surrogate loss treats advantages as constants; a state baseline cuts the variance without bias.
# * Behaviour cloning is supervised learning on the expert's states; its errors compound on the
#   learner's own states, which DAgger labels and trains on.
# * The max in the DQN target over-estimates; double DQN decouples selecting the action from
#   valuing it.

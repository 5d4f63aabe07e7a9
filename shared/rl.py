"""Environments and rollouts for the reinforcement-learning assignment, all offline.

- ``ChainWorld``: a corridor of a few states whose values can be solved exactly, so returns and
  advantages can be checked by hand and the bias and variance of an estimator measured.
- ``NoisyChain``: a corridor in which every action pays zero-mean noise, so every true Q-value is
  zero: the over-estimation of a max over noisy estimates shows as a value above zero.
- ``cartpoles``, ``run_episodes``, ``evaluate``: complete episodes of Gymnasium's ``CartPole-v1``,
  several environments stepped in lockstep, laid end to end along one time axis.
- ``cartpole_expert``: a scripted controller (a linear rule) to imitate.

Nothing here computes a return, an advantage or a loss: those are the assignment. Gymnasium is
imported only by the functions that make CartPoles.

Shapes: ``T`` steps (several episodes end to end), ``n`` environments, ``D`` observation size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "ChainWorld",
    "Episodes",
    "NoisyChain",
    "cartpole_expert",
    "cartpoles",
    "evaluate",
    "numpy_actor",
    "run_episodes",
]

LEFT, RIGHT = 0, 1


class ChainWorld:
    """States ``0 .. n - 1`` in a row; the episode starts in ``start`` and ends on reaching ``n - 1``.

    Action 1 moves right and action 0 left (from state 0, left stays put); with probability
    ``slip`` the move goes the other way. Reaching the goal pays ``goal_reward``; every other step
    pays ``step_reward``. The goal state is terminal: its value is zero.
    """

    def __init__(self, n_states: int = 5, start: int = 0, slip: float = 0.0, goal_reward: float = 1.0,
                 step_reward: float = 0.0, seed: int = 0) -> None:
        if n_states < 2 or not 0 <= start < n_states - 1:
            raise ValueError(f"need n_states >= 2 and 0 <= start < n_states - 1, got {n_states=}, {start=}")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"slip is a probability, got {slip}")
        self.n_states, self.start, self.slip = n_states, start, slip
        self.goal_reward, self.step_reward = goal_reward, step_reward
        self.rng = np.random.default_rng(seed)
        self.state = start

    @property
    def goal(self) -> int:
        return self.n_states - 1

    def reset(self) -> int:
        self.state = self.start
        return self.state

    def _move(self, state: int, direction: int) -> int:
        return min(max(state + (1 if direction == RIGHT else -1), 0), self.goal)

    def step(self, action: int) -> tuple[int, float, bool]:
        """``(next_state, reward, done)``."""
        if self.state == self.goal:
            raise RuntimeError("the episode has ended: call reset()")
        direction = action if self.rng.random() >= self.slip else 1 - action
        self.state = self._move(self.state, direction)
        done = self.state == self.goal
        return self.state, (self.goal_reward if done else self.step_reward), done

    def model(self) -> tuple[np.ndarray, np.ndarray]:
        """The MDP as arrays: ``P[s, a, s']`` transition probabilities and ``R[s, a]`` expected rewards.
        The goal's rows are zero (an absorbing state that pays nothing more)."""
        n = self.n_states
        P, R = np.zeros((n, 2, n)), np.zeros((n, 2))
        for s in range(self.goal):
            for a in (LEFT, RIGHT):
                for direction, p in ((a, 1.0 - self.slip), (1 - a, self.slip)):
                    nxt = self._move(s, direction)
                    P[s, a, nxt] += p
                    R[s, a] += p * (self.goal_reward if nxt == self.goal else self.step_reward)
        return P, R

    def values(self, pi: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``(V, Q)`` of the policy ``pi[s, a]`` (rows sum to one): V solves the Bellman
        equations ``V = r_pi + gamma P_pi V`` as a linear system, and ``Q = R + gamma P V``."""
        P, R = self.model()
        P_pi = np.einsum("sa,sat->st", pi, P)  # (n, n)
        r_pi = (pi * R).sum(axis=1)  # (n,)
        V = np.linalg.solve(np.eye(self.n_states) - gamma * P_pi, r_pi)
        return V, R + gamma * P @ V

    def episode(self, pi: np.ndarray, max_steps: int = 1000) -> tuple[list[int], list[int], list[float]]:
        """One episode under ``pi[s, a]``: the states visited, the actions taken and the rewards."""
        states, actions, rewards = [], [], []
        s = self.reset()
        for _ in range(max_steps):
            a = int(self.rng.random() < pi[s, RIGHT])
            s_next, r, done = self.step(a)
            states.append(s)
            actions.append(a)
            rewards.append(r)
            s = s_next
            if done:
                break
        return states, actions, rewards


class NoisyChain:
    """``n_states`` states in a row; each of ``n_actions`` actions moves one state right and pays a
    reward drawn from N(0, ``noise``^2); the episode ends after the last state. Every true Q-value is
    zero, so any systematic error of an estimate is bias (van Hasselt, "Double Q-learning", 2010)."""

    def __init__(self, n_states: int = 4, n_actions: int = 8, noise: float = 1.0) -> None:
        self.n_states, self.n_actions, self.noise = n_states, n_actions, noise

    def transitions(self, n: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
        """``n`` transitions from states and actions drawn uniformly: ``(s, a, r, s_next, done)``,
        each ``(n,)``; ``s_next`` of a final transition is 0 (any state: ``done`` masks it)."""
        s = torch.randint(0, self.n_states, (n,), generator=gen)
        a = torch.randint(0, self.n_actions, (n,), generator=gen)
        r = self.noise * torch.randn(n, generator=gen, dtype=torch.float64)
        done = s == self.n_states - 1
        s_next = torch.where(done, torch.zeros_like(s), s + 1)
        return s, a, r, s_next, done.to(torch.float64)


@dataclass
class Episodes:
    """Complete episodes laid end to end along time: ``obs`` (T, D), ``actions`` (T,), ``rewards`` (T,)
    and ``dones`` (T,) (1.0 on each episode's last step, so ``dones[-1] = 1``); ``lengths`` (n,)."""

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    lengths: np.ndarray

    @property
    def totals(self) -> np.ndarray:
        """Each episode's undiscounted total reward (its score), ``(n,)``."""
        bounds = np.concatenate([[0], np.cumsum(self.lengths)])
        r = self.rewards.double().cpu().numpy()
        return np.array([r[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:])])


def cartpoles(n: int, max_steps: int = 500) -> list:
    """``n`` independent ``CartPole-v1`` environments (Gymnasium; pure Python, nothing downloaded),
    truncated after ``max_steps`` steps (CartPole-v1's own limit is 500)."""
    import gymnasium as gym

    return [gym.make("CartPole-v1", max_episode_steps=max_steps) for _ in range(n)]


def run_episodes(envs: Sequence, act: Callable[[torch.Tensor], torch.Tensor], seed: int | None = None) -> Episodes:
    """One complete episode in each of ``envs``, stepped in lockstep (one ``act`` call per step for
    every environment still running), laid end to end in the order of ``envs``.

    ``act`` maps observations ``(m, D)`` (float32) to actions ``(m,)``; it runs under ``no_grad``.
    An episode ends when the environment terminates or truncates (CartPole-v1 stops at 500 steps);
    both count as an end here (``dones = 1``, nothing is bootstrapped). ``seed`` seeds environment
    ``i`` with ``seed + i``.
    """
    n = len(envs)
    obs = [env.reset(seed=None if seed is None else seed + i)[0] for i, env in enumerate(envs)]
    steps: list[list[tuple]] = [[] for _ in range(n)]
    running = list(range(n))
    while running:
        batch = torch.as_tensor(np.stack([obs[i] for i in running]), dtype=torch.float32)  # (m, D)
        with torch.no_grad():
            actions = act(batch).tolist()
        for i, a in zip(running, actions):
            nxt, r, terminated, truncated, _ = envs[i].step(int(a))
            steps[i].append((obs[i], int(a), float(r), terminated or truncated))
            obs[i] = nxt
        running = [i for i in running if not steps[i][-1][3]]
    flat = [step for episode in steps for step in episode]
    return Episodes(
        obs=torch.as_tensor(np.stack([s[0] for s in flat]), dtype=torch.float32),
        actions=torch.tensor([s[1] for s in flat], dtype=torch.long),
        rewards=torch.tensor([s[2] for s in flat], dtype=torch.float32),
        dones=torch.tensor([float(s[3]) for s in flat], dtype=torch.float32),
        lengths=np.array([len(e) for e in steps]),
    )


def evaluate(policy: Callable[[torch.Tensor], torch.Tensor], envs: Sequence, seed: int) -> float:
    """Mean score of the greedy policy (the most likely action) over one episode per environment."""
    return float(run_episodes(envs, lambda o: policy(o).argmax(dim=-1), seed=seed).totals.mean())


def numpy_actor(net: torch.nn.Module, rng: np.random.Generator | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A fast stand-in for ``net`` when acting in an environment: a snapshot of its weights in NumPy.

    ``net`` is an ``nn.Sequential`` of ``nn.Linear`` and ``nn.Tanh``/``nn.ReLU`` layers mapping
    observations to logits. With ``rng`` the returned function samples actions from the softmax of
    the logits; without it, it takes the most likely action. Calling a tiny torch network once per
    environment step costs about ten times the step itself; NumPy on a few numbers costs microseconds.
    The snapshot does not follow later updates of ``net``: make a new actor after each update.
    """
    layers = []
    for m in net:
        if isinstance(m, torch.nn.Linear):
            w, b = (t.detach().double().cpu().numpy() for t in (m.weight, m.bias))
            layers.append(("linear", w.T, b))
        elif isinstance(m, (torch.nn.Tanh, torch.nn.ReLU)):
            layers.append((type(m).__name__.lower(), None, None))
        else:
            raise TypeError(f"numpy_actor supports Linear, Tanh and ReLU layers, not {type(m).__name__}")

    def act(obs: torch.Tensor) -> torch.Tensor:
        x = obs.numpy().astype(np.float64)  # (m, D)
        for kind, w, b in layers:
            x = x @ w + b if kind == "linear" else (np.tanh(x) if kind == "tanh" else np.maximum(x, 0.0))
        if rng is None:
            return torch.from_numpy(x.argmax(axis=-1))
        p = np.exp(x - x.max(axis=-1, keepdims=True))  # (m, A), a softmax up to its normaliser
        u = rng.random((x.shape[0], 1)) * p.sum(axis=-1, keepdims=True)
        return torch.from_numpy((p.cumsum(axis=-1) < u).sum(axis=-1).clip(max=x.shape[-1] - 1))

    return act


CARTPOLE_GAINS = (0.05, 0.1, 1.0, 0.2)  # (x, x_dot, theta, theta_dot)


def cartpole_expert(obs: torch.Tensor) -> torch.Tensor:
    """A scripted CartPole controller: push right (1) when ``0.05 x + 0.1 x' + theta + 0.2 theta' > 0``,
    else left (0). Mostly "push towards where the pole falls", with a little pull back to the centre;
    it balances for the full 500 steps from every start state. ``obs`` (..., 4) -> actions (...)."""
    gains = torch.tensor(CARTPOLE_GAINS, dtype=obs.dtype, device=obs.device)
    return (obs @ gains > 0).long()

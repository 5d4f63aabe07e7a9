"""Input makers, oracles and trusted stand-ins shared by the rl hidden tests (not a test file: the
grader collects only test_*.py). Each test file loads this file with ``load_helpers(__file__)``,
which registers it as trusted without making it importable by name.

- ``episodes``: random rewards and 0/1 dones of shape (T,) or (T, B), episode ends at random steps.
- ``loop_returns``, ``loop_gae``: per-stream Python loops over plain floats, episode by episode.
- ``categorical_pg_loss``: the policy-gradient loss through ``torch.distributions.Categorical``.
- ``call_pair``: calls gae and checks it returns the pair (advantages, returns) of the rewards' shape.
"""

import torch

F64 = torch.float64


def episodes(gen, shape, p_done=0.25, dtype=F64):
    """(rewards, dones): rewards N(0, 1), dones 1.0 with probability p_done (an episode ended there)."""
    rewards = torch.randn(*shape, generator=gen, dtype=F64).to(dtype)
    dones = (torch.rand(*shape, generator=gen) < p_done).to(dtype)
    return rewards, dones


def _streams(x):
    """(T,) or (T, B) -> list of B lists of floats, one per stream."""
    x = x.detach().double().cpu()
    return [x.tolist()] if x.dim() == 1 else [x[:, b].tolist() for b in range(x.shape[1])]


def _stack(cols, like):
    out = torch.tensor(cols, dtype=F64).T  # (T, B)
    return out[:, 0] if like.dim() == 1 else out


def loop_returns(rewards, dones, gamma):
    """Each episode on its own: the sum of gamma^k r_(t+k) up to the episode's last step."""
    cols = []
    for r, d in zip(_streams(rewards), _streams(dones)):
        G = [0.0] * len(r)
        for t in range(len(r)):
            total, discount = 0.0, 1.0
            for k in range(t, len(r)):
                total += discount * r[k]
                if d[k]:
                    break
                discount *= gamma
            G[t] = total
        cols.append(G)
    return _stack(cols, rewards)


def loop_gae(rewards, values, dones, last_value, gamma, lam):
    """The sum over k of (gamma lam)^k delta_(t+k), stopped at the episode's end, in plain floats."""
    last = torch.as_tensor(last_value, dtype=F64).expand(rewards.shape[1:]).reshape(-1).tolist()
    cols = []
    for b, (r, v, d) in enumerate(zip(_streams(rewards), _streams(values), _streams(dones))):
        T = len(r)
        nxt = v[1:] + [last[b]]
        delta = [r[t] + gamma * (0.0 if d[t] else nxt[t]) - v[t] for t in range(T)]
        A = []
        for t in range(T):
            total, w = 0.0, 1.0
            for k in range(t, T):
                total += w * delta[k]
                if d[k]:
                    break
                w *= gamma * lam
            A.append(total)
        cols.append(A)
    return _stack(cols, rewards)


def categorical_pg_loss(logits, actions, advantages, normalize=True):
    """-mean(log pi(a) A) with torch.distributions.Categorical; A standardised over all elements."""
    adv = advantages.detach()
    if normalize:
        flat = adv.reshape(-1)
        std = flat.std() if flat.numel() > 1 else torch.ones((), dtype=adv.dtype, device=adv.device)
        adv = (adv - flat.mean()) / (std + 1e-8)
    log_prob = torch.distributions.Categorical(logits=logits).log_prob(actions)
    return -(log_prob * adv).mean()


def call_pair(fn, rewards, *args):
    out = fn(rewards, *args)
    ok = bool(isinstance(out, tuple) and len(out) == 2)
    assert ok, "gae must return the pair (advantages, returns)"
    for what, t in zip(("advantages", "returns"), out):
        ok = bool(isinstance(t, torch.Tensor) and t.shape == rewards.shape)
        assert ok, (
            f"{what} must be a tensor of the rewards' shape {tuple(rewards.shape)}; got "
            f"{tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}")
    adv, ret = out
    ok = bool(torch.allclose(ret, adv + args[0], rtol=1e-6, atol=1e-6))
    assert ok, "the returns must be advantages + values"
    return out

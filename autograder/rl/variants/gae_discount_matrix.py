# VARIANT: gae
# WHY: the matrix form A = M delta, M[t, k] = (gamma lam)^(k-t) for k >= t in the same episode (no loop over time).
# %%
# GRADED: gae
import torch


def gae(rewards, values, dones, last_value, gamma, lam):
    T = rewards.shape[0]
    d = dones.to(values.dtype)
    last = torch.as_tensor(last_value, dtype=values.dtype, device=values.device).expand_as(values[0])
    next_values = torch.cat([values[1:], last.unsqueeze(0)])
    deltas = rewards + gamma * (1.0 - d) * next_values - values  # (T, ...)
    episode = d.cumsum(0) - d  # (T, ...): how many episodes ended before step t
    t = torch.arange(T, device=values.device)
    lag = (t[None, :] - t[:, None]).to(values.dtype)  # (T, T): k - t
    shape = (T, T) + (1,) * (values.dim() - 1)
    same = (episode[:, None] == episode[None, :]) & (lag >= 0).reshape(shape)  # (T, T, ...)
    M = torch.where(same, ((gamma * lam) ** lag.clamp(min=0)).reshape(shape), torch.zeros((), dtype=values.dtype))
    advantages = (M * deltas[None]).sum(dim=1)
    return advantages, values + advantages

# VARIANT: returns
# WHY: the matrix form G = M r, M[t, k] = gamma^(k-t) for k >= t in the same episode (ids from a cumsum of dones).
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    T = rewards.shape[0]
    d = dones.to(rewards.dtype)
    episode = d.cumsum(0) - d  # (T, ...): how many episodes ended before step t
    t = torch.arange(T, device=rewards.device)
    lag = (t[None, :] - t[:, None]).to(rewards.dtype)  # (T, T): k - t
    shape = (T, T) + (1,) * (rewards.dim() - 1)
    same = (episode[:, None] == episode[None, :]) & (lag >= 0).reshape(shape)  # (T, T, ...)
    M = torch.where(same, (gamma ** lag.clamp(min=0)).reshape(shape), torch.zeros((), dtype=rewards.dtype))
    return (M * rewards[None]).sum(dim=1)

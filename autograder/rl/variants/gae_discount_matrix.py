# VARIANT: gae
# WHY: the matrix form A = M delta with M[t, k] = (gamma lam)^(k-t) inside t's episode, built with cumulative products.
# %%
# GRADED: gae
import torch


def gae(rewards, values, dones, last_value, gamma, lam):
    T = rewards.shape[0]
    not_done = 1.0 - dones.to(values.dtype)
    last = torch.as_tensor(last_value, dtype=values.dtype, device=values.device).expand_as(values[0])
    next_values = torch.cat([values[1:], last.unsqueeze(0)])
    deltas = rewards + gamma * not_done * next_values - values  # (T, ...)
    M = torch.zeros((T, T) + values.shape[1:], dtype=values.dtype, device=values.device)
    for t in range(T):
        w = torch.ones_like(values[0])
        for k in range(t, T):
            M[t, k] = w
            w = w * gamma * lam * not_done[k]
    advantages = (M * deltas[None]).sum(dim=1)
    return advantages, values + advantages

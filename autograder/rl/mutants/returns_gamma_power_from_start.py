# MUTANT: returns
# WHY: rewards are discounted by gamma^t counted from the start of the tensor rather than from step t
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    not_done = 1.0 - dones.to(rewards.dtype)
    T = rewards.shape[0]
    powers = gamma ** torch.arange(T, dtype=rewards.dtype, device=rewards.device)
    powers = powers.reshape(T, *([1] * (rewards.dim() - 1)))
    G = torch.zeros_like(rewards[0])
    out = []
    for t in reversed(range(T)):
        G = powers[t] * rewards[t] + not_done[t] * G
        out.append(G)
    return torch.stack(out[::-1])

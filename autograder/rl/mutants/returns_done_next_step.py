# MUTANT: returns
# WHY: the episode-end mask is read one step late, so the return leaks across each episode boundary
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    not_done = 1.0 - dones.to(rewards.dtype)
    G = torch.zeros_like(rewards[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        mask = not_done[t + 1] if t + 1 < rewards.shape[0] else torch.ones_like(G)
        G = rewards[t] + gamma * mask * G
        out.append(G)
    return torch.stack(out[::-1])

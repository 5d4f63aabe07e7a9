# MUTANT: returns
# WHY: the recursion runs forwards in time, summing past rewards instead of future ones
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    not_done = 1.0 - dones.to(rewards.dtype)
    G = torch.zeros_like(rewards[0])
    out = []
    prev_done = torch.ones_like(G)
    for t in range(rewards.shape[0]):
        G = rewards[t] + gamma * (1.0 - prev_done) * G
        prev_done = 1.0 - not_done[t]
        out.append(G)
    return torch.stack(out)

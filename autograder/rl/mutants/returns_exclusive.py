# MUTANT: returns
# WHY: G_t leaves out r_t: it is the discounted return from step t + 1 on
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    not_done = 1.0 - dones.to(rewards.dtype)
    G = torch.zeros_like(rewards[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        out.append(gamma * not_done[t] * G)
        G = rewards[t] + gamma * not_done[t] * G
    return torch.stack(out[::-1])

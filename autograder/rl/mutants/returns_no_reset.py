# MUTANT: returns
# WHY: the return keeps accumulating across episode ends: the dones are ignored
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    G = torch.zeros_like(rewards[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        G = rewards[t] + gamma * G
        out.append(G)
    return torch.stack(out[::-1])

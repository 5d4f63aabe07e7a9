# VARIANT: returns
# WHY: flips time, runs the recursion forwards writing into a preallocated tensor, flips back.
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    r = rewards.flip(0)
    keep = (~dones.bool()).flip(0).to(rewards.dtype)
    G = torch.empty_like(r)
    running = torch.zeros_like(r[0])
    for i in range(r.shape[0]):
        running = r[i] + gamma * keep[i] * running
        G[i] = running
    return G.flip(0)

# MUTANT: returns
# WHY: the episode-end mask also wipes out the reward of an episode's last step
# %%
# GRADED: returns
import torch


def discounted_returns(rewards, dones, gamma):
    not_done = 1.0 - dones.to(rewards.dtype)
    G = torch.zeros_like(rewards[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        G = not_done[t] * (rewards[t] + gamma * G)
        out.append(G)
    return torch.stack(out[::-1])

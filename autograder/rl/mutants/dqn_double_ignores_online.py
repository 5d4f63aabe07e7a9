# MUTANT: dqn_target
# WHY: the double-DQN target ignores the online network: it is the plain DQN target
# %%
# GRADED: dqn_target
import torch


def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    with torch.no_grad():
        if next_q_online is None:
            nxt = next_q_target.max(dim=-1).values
        else:
            nxt = next_q_target.max(dim=-1).values
        return rewards + gamma * not_done * nxt

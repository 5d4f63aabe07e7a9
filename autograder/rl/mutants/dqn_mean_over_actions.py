# MUTANT: dqn_target
# WHY: the next state's value averages the Q-values over actions instead of taking the best one
# %%
# GRADED: dqn_target
import torch


def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    with torch.no_grad():
        if next_q_online is None:
            nxt = next_q_target.mean(dim=-1)
        else:
            nxt = next_q_target.mean(dim=-1)
        return rewards + gamma * not_done * nxt

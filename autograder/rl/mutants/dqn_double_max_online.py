# MUTANT: dqn_target
# WHY: the double-DQN target takes the online network's max instead of valuing its argmax with the target network
# %%
# GRADED: dqn_target
import torch


def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    with torch.no_grad():
        if next_q_online is None:
            nxt = next_q_target.max(dim=-1).values
        else:
            nxt = next_q_online.max(dim=-1).values
        return rewards + gamma * not_done * nxt

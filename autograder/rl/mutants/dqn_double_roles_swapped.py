# MUTANT: dqn_target
# WHY: the double-DQN roles are swapped: the target network picks the action and the online network values it
# %%
# GRADED: dqn_target
import torch


def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    with torch.no_grad():
        if next_q_online is None:
            nxt = next_q_target.max(dim=-1).values
        else:
            nxt = next_q_online.gather(-1, next_q_target.argmax(dim=-1, keepdim=True)).squeeze(-1)
        return rewards + gamma * not_done * nxt

# MUTANT: dqn_target
# WHY: the targets keep a gradient, so training would also move the target network towards the prediction
# %%
# GRADED: dqn_target
def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    if next_q_online is None:
        nxt = next_q_target.max(dim=-1).values
    else:
        nxt = next_q_target.gather(-1, next_q_online.argmax(dim=-1, keepdim=True)).squeeze(-1)
    return rewards + gamma * not_done * nxt

# VARIANT: dqn_target
# WHY: a loop over transitions with Python floats, as a first version would be written.
# %%
# GRADED: dqn_target
import torch


def dqn_targets(rewards, next_q_target, dones, gamma, next_q_online=None):
    ys = []
    for i in range(rewards.shape[0]):
        if bool(dones[i]):
            ys.append(rewards[i].item())
            continue
        if next_q_online is None:
            best = next_q_target[i].max().item()
        else:
            best = next_q_target[i, int(next_q_online[i].argmax())].item()
        ys.append(rewards[i].item() + gamma * best)
    return torch.tensor(ys, dtype=rewards.dtype, device=rewards.device)

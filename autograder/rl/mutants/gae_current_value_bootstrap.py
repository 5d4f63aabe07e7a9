# MUTANT: gae
# WHY: the TD error uses V(s_t) for the next state's value (the values are not shifted by one step)
# %%
# GRADED: gae
import torch


def gae(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    last_value = torch.as_tensor(last_value, dtype=values.dtype, device=values.device).expand_as(values[0])
    deltas = rewards + gamma * not_done * values - values
    A = torch.zeros_like(deltas[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        A = deltas[t] + gamma * lam * not_done[t] * A
        out.append(A)
    advantages = torch.stack(out[::-1])
    return advantages, advantages + values

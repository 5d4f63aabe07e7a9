# MUTANT: gae
# WHY: gamma and lambda are swapped: the TD error is discounted by lambda
# %%
# GRADED: gae
import torch


def gae(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    last_value = torch.as_tensor(last_value, dtype=values.dtype, device=values.device).expand_as(values[0])
    next_values = torch.cat([values[1:], last_value.unsqueeze(0)])
    deltas = rewards + lam * not_done * next_values - values
    A = torch.zeros_like(deltas[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        A = deltas[t] + gamma * lam * not_done[t] * A
        out.append(A)
    advantages = torch.stack(out[::-1])
    return advantages, advantages + values

# MUTANT: gae
# WHY: the advantage recursion A_t = delta_t + gamma lam A_(t+1) does not stop at episode ends
# %%
# GRADED: gae
import torch


def gae(rewards, values, dones, last_value, gamma, lam):
    not_done = 1.0 - dones.to(values.dtype)
    last_value = torch.as_tensor(last_value, dtype=values.dtype, device=values.device).expand_as(values[0])
    next_values = torch.cat([values[1:], last_value.unsqueeze(0)])
    deltas = rewards + gamma * not_done * next_values - values
    A = torch.zeros_like(deltas[0])
    out = []
    for t in reversed(range(rewards.shape[0])):
        A = deltas[t] + gamma * lam * A
        out.append(A)
    advantages = torch.stack(out[::-1])
    return advantages, advantages + values

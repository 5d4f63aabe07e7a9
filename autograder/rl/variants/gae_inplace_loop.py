# VARIANT: gae
# WHY: computes each TD error inside the backward loop and writes the advantages in place.
# %%
# GRADED: gae
import torch


def gae(rewards, values, dones, last_value, gamma, lam):
    T = rewards.shape[0]
    adv = torch.zeros_like(values)
    next_value = torch.as_tensor(last_value, dtype=values.dtype, device=values.device) * torch.ones_like(values[0])
    next_adv = torch.zeros_like(values[0])
    for t in range(T - 1, -1, -1):
        alive = 1.0 - dones[t].to(values.dtype)
        delta = rewards[t] + gamma * alive * next_value - values[t]
        next_adv = delta + gamma * lam * alive * next_adv
        adv[t] = next_adv
        next_value = values[t]
    return adv, adv + values

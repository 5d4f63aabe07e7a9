# VARIANT: q_sample
# WHY: casts the schedule to x0's dtype first (float32 arithmetic for float32 data), picks alpha-bar with
# gather, broadcasts with repeated unsqueeze and mixes with torch.addcmul.
# %%
# GRADED: q_sample
import torch


def q_sample(x0, t, noise, alphas_cumprod):
    ab = torch.gather(alphas_cumprod.to(device=x0.device, dtype=x0.dtype), 0, t.to(x0.device))
    while ab.dim() < x0.dim():
        ab = ab.unsqueeze(-1)
    return torch.addcmul(torch.sqrt(1 - ab) * noise, torch.sqrt(ab), x0)

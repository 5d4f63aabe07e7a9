# VARIANT: guidance
# WHY: two separate model calls (unconditional first) and torch.lerp for the extrapolation.
# %%
# GRADED: guidance
import torch


def guided_eps(model, xt, t, cond, null_cond, scale):
    eps_u = model(xt, t, null_cond)
    eps_c = model(xt, t, cond)
    return torch.lerp(eps_u, eps_c, float(scale))

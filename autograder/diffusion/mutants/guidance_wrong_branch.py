# MUTANT: guidance
# WHY: pushes the prediction away from the conditional one towards the unconditional one.
# %%
# GRADED: guidance
import torch


def guided_eps(model, xt, t, cond, null_cond, scale):
    """Classifier-free guidance: eps_uncond + scale * (eps_cond - eps_uncond).

    xt: (B, ...); t, cond, null_cond: (B,) long; scale: float. Returns (B, ...).
    """
    eps = model(torch.cat([xt, xt]), torch.cat([t, t]), torch.cat([cond, null_cond]))  # (2B, ...)
    eps_cond, eps_uncond = eps.chunk(2)
    return eps_cond + scale * (eps_uncond - eps_cond)

# VARIANT: ddim_step
# WHY: keeps alpha-bar as 0-dim tensors (no float conversion), eliminates x0_hat into coefficients of x_t and
# eps, and always adds sigma * noise when noise is given (sigma is 0 when eta = 0).
# %%
# GRADED: ddim_step
import torch


def ddim_step(xt, eps, t, t_prev, alphas_cumprod, eta=0.0, noise=None):
    ab_t = alphas_cumprod[t]
    ab_p = alphas_cumprod[t_prev] if t_prev >= 0 else torch.ones_like(ab_t)
    var = eta**2 * (1 - ab_p) / (1 - ab_t) * (1 - ab_t / ab_p)
    c_x = torch.sqrt(ab_p / ab_t)
    c_eps = torch.sqrt((1 - ab_p - var).clamp(min=0)) - torch.sqrt(ab_p * (1 - ab_t) / ab_t)
    out = c_x.to(xt.dtype) * xt + c_eps.to(xt.dtype) * eps
    if eta > 0 and noise is None:
        noise = torch.randn_like(xt)
    if noise is not None:
        out = out + var.sqrt().to(xt.dtype) * noise
    return out

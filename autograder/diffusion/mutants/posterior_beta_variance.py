# MUTANT: posterior
# WHY: uses the step's noise amount as the variance instead of the posterior variance.
# %%
# GRADED: posterior
import torch


def posterior_mean_variance(x0, xt, t, betas):
    """Mean and variance of q(x_{t-1} | x_t, x_0) (DDPM, Eqs. 6-7), with alpha_bar_{-1} = 1.

    x0, xt: (B, ...); t: (B,) long; betas: (T,) float64.
    Returns mean (B, ...) and variance (B, 1, ..., 1), both in x0's dtype.
    """
    betas = betas.to(x0.device)
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)  # (T,)
    ab_prev_all = torch.cat([alphas_cumprod.new_ones(1), alphas_cumprod[:-1]])  # (T,): alpha_bar_{t-1}
    t = t.to(x0.device)
    shape = (-1, *([1] * (x0.dim() - 1)))
    beta, ab, ab_prev = (v[t].reshape(shape) for v in (betas, alphas_cumprod, ab_prev_all))  # (B, 1, ..)
    coef_x0 = ab_prev.sqrt() * beta / (1 - ab)
    coef_xt = (1 - beta).sqrt() * (1 - ab_prev) / (1 - ab)
    mean = coef_x0 * x0 + coef_xt * xt  # (B, ...)
    variance = beta  # (B, 1, ..., 1)
    return mean.to(x0.dtype), variance.to(x0.dtype)

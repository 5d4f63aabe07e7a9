# MUTANT: q_sample
# WHY: returns double precision instead of the input's precision.
# %%
# GRADED: q_sample


def q_sample(x0, t, noise, alphas_cumprod):
    """x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise (DDPM, Eq. 4), per sample.

    x0, noise: (B, ...); t: (B,) long; alphas_cumprod: (T,) float64. Returns (B, ...) in x0's dtype.
    """
    ab = alphas_cumprod.to(x0.device)[t.to(x0.device)]  # (B,) float64
    ab = ab.reshape(-1, *([1] * (x0.dim() - 1)))  # (B, 1, ..., 1)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

# MUTANT: q_sample
# WHY: mixes the data and the noise without taking the square roots of the weights.
# %%
# GRADED: q_sample


def q_sample(x0, t, noise, alphas_cumprod):
    """x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise (DDPM, Eq. 4), per sample.

    x0, noise: (B, ...); t: (B,) long; alphas_cumprod: (T,) float64. Returns (B, ...) in x0's dtype.
    """
    ab = alphas_cumprod.to(x0.device)[t.to(x0.device)]  # (B,) float64
    ab = ab.reshape(-1, *([1] * (x0.dim() - 1)))  # (B, 1, ..., 1)
    return (ab * x0 + (1 - ab) * noise).to(x0.dtype)

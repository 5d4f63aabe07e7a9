# VARIANT: sampler
# WHY: DDPM with the direct mean 1/sqrt(alpha_t) (x_t - beta_t / sqrt(1 - ab_t) eps) and the posterior
# variance, without calling posterior_mean_variance; draws each step's noise BEFORE calling the model;
# DDIM walks a reversed tensor of timesteps built with torch.arange and draws the starting noise with randn
# on a float32 dtype given explicitly.
# %%
# GRADED: sampler
import torch


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator=None):
    dev = betas.device
    alphas = 1 - betas
    ab = torch.cumprod(alphas, 0)
    ab_prev = torch.cat([torch.ones(1, dtype=ab.dtype, device=dev), ab[:-1]])
    post_var = betas * (1 - ab_prev) / (1 - ab)
    x = torch.randn(*shape, generator=generator, device=dev, dtype=torch.float32)
    for t in range(len(betas) - 1, -1, -1):
        z = torch.randn(*shape, generator=generator, device=dev, dtype=torch.float32) if t > 0 else None
        eps = model(x, torch.full((shape[0],), t, device=dev, dtype=torch.long))
        mean = (x - (betas[t] / (1 - ab[t]).sqrt()).float() * eps) / alphas[t].sqrt().float()
        x = mean if z is None else mean + post_var[t].sqrt().float() * z
    return x


@torch.no_grad()
def ddim_sample(model, shape, alphas_cumprod, steps, eta=0.0, generator=None):
    dev = alphas_cumprod.device
    T = alphas_cumprod.shape[0]
    taus = torch.div(torch.arange(steps) * (T - 1), steps - 1, rounding_mode="floor").tolist()
    x = torch.randn(*shape, generator=generator, device=dev, dtype=torch.float32)
    prevs = [-1] + taus[:-1]
    for t, t_prev in zip(reversed(taus), reversed(prevs)):
        z = torch.randn(*shape, generator=generator, device=dev, dtype=torch.float32) if eta > 0 else None
        eps = model(x, torch.full((shape[0],), t, device=dev, dtype=torch.long))
        x = ddim_step(x, eps, t, t_prev, alphas_cumprod, eta, z)  # noqa: F821 (defined in the ddim_step cell)
    return x

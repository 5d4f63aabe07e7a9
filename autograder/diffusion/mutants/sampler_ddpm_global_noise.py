# MUTANT: sampler
# WHY: draws the noise of each step from the global random generator instead of the one it is given.
# %%
# GRADED: sampler
import torch


@torch.no_grad()
def ddpm_sample(model, shape, betas, generator=None):
    """Ancestral sampling (DDPM, Algorithm 2) from N(0, I) at t = T-1 down to t = 0.

    shape: (B, ...); betas: (T,) float64. Returns x_{-1}: float32 (B, ...) on betas' device.
    """
    device = betas.device
    alphas_cumprod = torch.cumprod(1 - betas, dim=0)  # (T,)
    x = torch.randn(shape, generator=generator, device=device)  # (B, ...)
    for t in reversed(range(betas.shape[0])):
        tt = torch.full((shape[0],), t, dtype=torch.long, device=device)  # (B,)
        eps = model(x, tt)
        ab = float(alphas_cumprod[t])
        x0_hat = (x - (1 - ab) ** 0.5 * eps) / ab**0.5
        mean, variance = posterior_mean_variance(x0_hat, x, tt, betas)  # noqa: F821 (defined in the posterior cell)
        if t > 0:
            x = mean + variance.sqrt() * torch.randn_like(x)
        else:
            x = mean  # no noise at the last step
    return x


@torch.no_grad()
def ddim_sample(model, shape, alphas_cumprod, steps, eta=0.0, generator=None):
    """DDIM sampling over `steps` timesteps tau_i = i (T - 1) // (steps - 1), ending at t_prev = -1.

    shape: (B, ...); alphas_cumprod: (T,) float64. Returns float32 (B, ...) on the schedule's device.
    """
    device, T = alphas_cumprod.device, alphas_cumprod.shape[0]
    taus = [i * (T - 1) // (steps - 1) for i in range(steps)]  # increasing, taus[-1] = T - 1
    x = torch.randn(shape, generator=generator, device=device)
    for i in reversed(range(steps)):
        t, t_prev = taus[i], (taus[i - 1] if i > 0 else -1)
        eps = model(x, torch.full((shape[0],), t, dtype=torch.long, device=device))
        noise = torch.randn(shape, generator=generator, device=device) if eta > 0 else None
        x = ddim_step(x, eps, t, t_prev, alphas_cumprod, eta=eta, noise=noise)  # noqa: F821 (defined in the ddim_step cell)
    return x

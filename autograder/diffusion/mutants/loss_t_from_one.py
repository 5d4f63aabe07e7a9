# MUTANT: loss
# WHY: never trains on the first step, counting steps from one as the paper does.
# %%
# GRADED: loss
import torch


def diffusion_loss(model, x0, alphas_cumprod, generator=None):
    """DDPM's simple loss: mean over all elements of (noise - model(x_t, t))^2, t ~ U{0..T-1}.

    x0: (B, ...); alphas_cumprod: (T,) float64; returns a 0-dim tensor (differentiable).
    """
    B, T = x0.shape[0], alphas_cumprod.shape[0]
    t = torch.randint(1, T, (B,), generator=generator, device=x0.device)  # (B,)
    noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)  # (B, ...)
    xt = q_sample(x0, t, noise, alphas_cumprod)  # noqa: F821 (defined in the q_sample cell)
    return ((noise - model(xt, t)) ** 2).mean()

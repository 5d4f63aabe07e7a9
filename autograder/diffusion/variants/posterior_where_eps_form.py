# VARIANT: posterior
# WHY: handles t = 0 with torch.where on alphas_cumprod[t - 1] (clamped index), writes the mean as
# (sqrt(ab_prev) beta x0 + sqrt(alpha) (1 - ab_prev) xt) / (1 - ab), and broadcasts with view.
# %%
# GRADED: posterior
import torch


def posterior_mean_variance(x0, xt, t, betas):
    t = t.to(betas.device)
    alphas = 1.0 - betas
    ab_all = alphas.cumprod(0)
    ab = ab_all[t]
    ab_prev = torch.where(t > 0, ab_all[(t - 1).clamp(min=0)], torch.ones_like(ab))
    beta = betas[t]
    view = [x0.shape[0]] + [1] * (x0.dim() - 1)
    ab, ab_prev, beta, alpha = (v.view(view).to(x0.device) for v in (ab, ab_prev, beta, alphas[t]))
    mean = (ab_prev.sqrt() * beta * x0 + alpha.sqrt() * (1 - ab_prev) * xt) / (1 - ab)
    var = (1 - ab_prev) / (1 - ab) * beta
    return mean.to(x0.dtype), var.to(x0.dtype)

# VARIANT: train
# WHY: draws the minibatch with torch.multinomial (with replacement), clears gradients by setting them to None
# by hand, and records float(loss.detach()).
# %%
# GRADED: train
import torch


def train_denoiser(model, data, alphas_cumprod, steps, batch_size=128, lr=1e-3, generator=None, progress=False):
    opt = torch.optim.Adam(model.parameters(), lr)
    weights = torch.ones(data.shape[0], device=data.device)
    history = []
    for _ in range(steps):
        for p in model.parameters():
            p.grad = None
        batch = data[torch.multinomial(weights, batch_size, replacement=True, generator=generator)]
        loss = diffusion_loss(model, batch, alphas_cumprod, generator)  # noqa: F821 (defined in the loss cell)
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    return history

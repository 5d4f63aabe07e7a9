# VARIANT: train
# WHY: draws each minibatch without replacement (the first batch_size entries of a fresh random permutation from
#   the generator): as good a minibatch as one drawn with replacement, and allowed by the notebook.
# %%
# GRADED: train
import torch


def train_denoiser(model, data, alphas_cumprod, steps, batch_size=128, lr=1e-3, generator=None, progress=False):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        order = torch.randperm(data.shape[0], generator=generator, device=data.device)
        batch = data[order[:batch_size]]
        optimizer.zero_grad()
        loss = diffusion_loss(model, batch, alphas_cumprod, generator)  # noqa: F821 (defined in the loss cell)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses

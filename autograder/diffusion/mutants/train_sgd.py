# MUTANT: train
# WHY: trains with plain SGD instead of Adam.
# %%
# GRADED: train
import torch
from tqdm.auto import tqdm


def train_denoiser(model, data, alphas_cumprod, steps, batch_size=128, lr=1e-3, generator=None, progress=False):
    """Adam on diffusion_loss over random minibatches of `data` (N, ...); returns `steps` Python floats."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in tqdm(range(steps), desc="train", disable=not progress, mininterval=1.0):
        idx = torch.randint(0, data.shape[0], (batch_size,), generator=generator, device=data.device)
        loss = diffusion_loss(model, data[idx], alphas_cumprod, generator)  # noqa: F821 (defined in the loss cell)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses

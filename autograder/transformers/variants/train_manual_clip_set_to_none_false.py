# VARIANT: train
# WHY: zeroes the gradients with zero_grad(set_to_none=False), clips the global gradient norm by
# hand with the same formula as clip_grad_norm_ (scale every gradient by min(1, clip / (norm + 1e-6)),
# norm = the 2-norm of all gradients together), and returns float(loss) instead of loss.item().
# %%
# GRADED: train
import torch


def train_step(model, optimizer, tokens, grad_clip=1.0):
    """One optimisation step on the next-token loss of tokens (B, L); returns the loss as a float."""
    optimizer.zero_grad(set_to_none=False)
    logits, _ = model(tokens)
    loss = lm_loss(logits, tokens)  # noqa: F821 (defined in the loss cell)
    loss.backward()
    if grad_clip is not None:
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        norms = torch.stack([torch.linalg.vector_norm(g.detach(), 2) for g in grads])  # one per tensor
        total_norm = torch.linalg.vector_norm(norms, 2)  # = 2-norm of all gradients concatenated
        scale = torch.clamp(grad_clip / (total_norm + 1e-6), max=1.0)
        with torch.no_grad():
            for g in grads:
                g.mul_(scale)
    optimizer.step()
    return float(loss)

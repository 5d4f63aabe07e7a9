# MUTANT: train
# WHY: never clips the gradients.
# %%
# GRADED: train
def train_step(model, optimizer, tokens, grad_clip=1.0):
    optimizer.zero_grad(set_to_none=True)
    logits, _ = model(tokens)  # (B, L, V)
    loss = lm_loss(logits, tokens)  # noqa: F821 (defined in the loss cell)
    loss.backward()
    optimizer.step()
    return loss.item()

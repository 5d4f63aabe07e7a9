# VARIANT: finetune
# WHY: the loss by hand (log-softmax, gather, masked mean), zero_grad(set_to_none=False) after the step,
# the optimizer built from named parameters
# %%
# GRADED: finetune
import torch


def finetune(model, batches, target_names, r, alpha, lr):
    inject_lora(model, target_names, r, alpha)  # noqa: F821
    trainable = [p for _, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    opt.zero_grad(set_to_none=False)
    model.train()
    history = []
    for inputs, targets in batches:
        logp = torch.log_softmax(model(inputs).float(), dim=-1)
        keep = targets != -100
        picked = logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        loss = -(picked * keep).sum() / keep.sum()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)
        history.append(float(loss.detach()))
    model.train(False)
    return history

# ATTACK: add
# WHY: calls the fused kernel SGD stands on (torch._fused_sgd_) instead of SGD itself
# %%
# GRADED: add
import torch


def add(a, b):
    a, b = torch.broadcast_tensors(a, b)
    p = a.detach().clone()
    getattr(torch, "_fused_" + "sgd_")([p], [-b], [], weight_decay=0.0, momentum=0.0, lr=1.0, dampening=0.0,
                                       nesterov=False, maximize=False, is_first_step=True)
    return p

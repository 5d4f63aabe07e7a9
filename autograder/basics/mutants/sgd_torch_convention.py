# MUTANT: sgd_momentum
# WHY: the velocity is stored in torch's convention (a buffer without the -lr factor), not CS231n's
# %%
# GRADED: sgd_momentum
import torch


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = torch.zeros_like(w)
    v = config["momentum"] * v + dw
    next_w = w - config["learning_rate"] * v
    config["velocity"] = v
    return next_w, config

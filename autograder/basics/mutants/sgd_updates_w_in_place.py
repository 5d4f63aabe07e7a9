# MUTANT: sgd_momentum
# WHY: w is updated in place, which changes the caller's tensor
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
    v = config["momentum"] * v - config["learning_rate"] * dw
    w += v
    next_w = w
    config["velocity"] = v
    return next_w, config

# MUTANT: sgd_momentum
# WHY: w moves along the old velocity, before the velocity takes in the new gradient
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
    next_w = w + v
    config["velocity"] = config["momentum"] * v - config["learning_rate"] * dw
    return next_w, config

# MUTANT: sgd_momentum
# WHY: the step is Nesterov's look-ahead instead of plain momentum's w + v
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
    next_w = w + config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return next_w, config

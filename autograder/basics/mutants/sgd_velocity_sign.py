# MUTANT: sgd_momentum
# WHY: the velocity stored in config has the opposite sign (the steps are right, the state is not)
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
    v = config["momentum"] * v + config["learning_rate"] * dw
    next_w = w - v
    config["velocity"] = v
    return next_w, config

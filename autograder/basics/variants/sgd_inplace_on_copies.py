# VARIANT: sgd_momentum
# WHY: in-place arithmetic (mul_, add_ with alpha) on fresh copies of the velocity and of w, so the
# caller's tensors stay untouched.
# %%
# GRADED: sgd_momentum
import torch


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    if "velocity" in config and config["velocity"] is not None:
        v = config["velocity"].clone()
    else:
        v = torch.zeros_like(w)
    v.mul_(config["momentum"]).add_(dw, alpha=-config["learning_rate"])
    next_w = w.clone().add_(v)
    config["velocity"] = v
    return next_w, config

# VARIANT: sgd_momentum
# WHY: works in torch's buffer form: recovers the buffer b = -v / lr with the current learning rate,
# updates b = mu b + dw, and stores v = -lr b (algebraically v = mu v - lr dw, even when lr changes);
# a new config dict is returned.
# %%
# GRADED: sgd_momentum


def sgd_momentum(w, dw, config=None):
    config = dict(config) if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    lr, mu = config["learning_rate"], config["momentum"]
    v = config.get("velocity", None)
    buf = dw.clone() * 0 if v is None else -v / lr
    buf = mu * buf + dw
    v = -lr * buf
    config["velocity"] = v
    return w + v, config

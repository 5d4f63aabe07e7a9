# MUTANT: train
# WHY: all parameters share one config, so they share one velocity
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    shared = configs.setdefault("all", {})
    for name in list(model.params):
        model.params[name], shared = sgd_momentum(model.params[name], grads[name], shared)  # noqa: F821
    return float(loss)

# MUTANT: train
# WHY: the config sgd_momentum returns is not stored back, so the velocity can be lost
# CORNER: an sgd_momentum that returns a new config dict instead of updating the one it was given
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        model.params[name], _ = sgd_momentum(model.params[name], grads[name], configs.get(name))  # noqa: F821
    return float(loss)

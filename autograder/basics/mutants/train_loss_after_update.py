# MUTANT: train
# WHY: the loss returned is recomputed after the update, not the loss of the step itself
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        model.params[name], configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name))  # noqa: F821
    return float(model.loss(X, y)[0])

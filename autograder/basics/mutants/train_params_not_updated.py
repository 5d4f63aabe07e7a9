# MUTANT: train
# WHY: the new parameters sgd_momentum returns are never stored in model.params
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        _, configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name))  # noqa: F821
    return float(loss)

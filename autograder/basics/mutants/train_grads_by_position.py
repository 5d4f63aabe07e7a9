# MUTANT: train
# WHY: gradients are matched to parameters by position instead of by name
# CORNER: a grads dict whose keys are in another order than params'
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name, g in zip(list(model.params), grads.values()):
        model.params[name], configs[name] = sgd_momentum(model.params[name], g, configs.get(name))  # noqa: F821
    return float(loss)

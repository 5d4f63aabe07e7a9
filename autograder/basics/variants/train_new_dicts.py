# VARIANT: train
# WHY: builds a new parameter dict and a dict of new configs first, then swaps the parameter dict
# in and merges the configs into the caller's dict with update.
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    loss = float(loss)
    new_params, new_configs = {}, {}
    for name, w in model.params.items():
        new_params[name], new_configs[name] = sgd_momentum(w, grads[name], configs.get(name))  # noqa: F821
    model.params = new_params
    configs.update(new_configs)
    return loss

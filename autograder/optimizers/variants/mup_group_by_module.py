# VARIANT: mup
# WHY: walks the modules (input, each hidden layer, output) instead of the parameter list, and groups
#      parameters by their learning-rate *value* in a dict (so at width == base_width everything lands in
#      one group); biases gathered from every layer; no group is created empty
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    """Adam parameter groups under muP (Tensor Programs V, Table 3) for shared.models.MLP."""
    width_mult = model.width / base_width
    assignments = [(model.input.weight, lr)]
    for layer in list(model.hidden) + [model.output]:
        assignments.append((layer.weight, lr / width_mult))
    for layer in [model.input, *model.hidden, model.output]:
        if layer.bias is not None:
            assignments.append((layer.bias, lr))
    by_lr = {}
    for p, group_lr in assignments:
        by_lr.setdefault(group_lr, []).append(p)
    return [{"name": f"lr={group_lr:g}", "params": params, "lr": group_lr} for group_lr, params in by_lr.items()]

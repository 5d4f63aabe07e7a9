# MUTANT: mup
# WHY: whole hidden and output layers (weights and biases) get lr / width_mult, instead of only their weights
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    width_mult = model.width / base_width
    return [
        {"params": list(model.input.parameters()), "lr": lr},
        {"params": list(model.hidden.parameters()) + list(model.output.parameters()), "lr": lr / width_mult},
    ]

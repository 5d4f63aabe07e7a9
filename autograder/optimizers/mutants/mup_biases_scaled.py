# MUTANT: mup
# WHY: also divides the learning rate of biases by the width multiplier, not only that of the hidden and output weights.
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    width_mult = model.width / base_width
    return [
        {"params": list(model.input.parameters()), "lr": lr},
        {"params": list(model.hidden.parameters()) + list(model.output.parameters()), "lr": lr / width_mult},
    ]

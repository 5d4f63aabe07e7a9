# MUTANT: mup
# WHY: leaves the output layer's learning rate unscaled, dividing only the hidden weights' by the width multiplier.
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    width_mult = model.width / base_width
    groups = []
    for name, p in model.named_parameters():
        scaled = name.startswith("hidden.") and name.endswith("weight")
        groups.append({"params": [p], "lr": lr / width_mult if scaled else lr})
    return groups

# MUTANT: mup
# WHY: multiplies the learning rate by the width multiplier instead of dividing by it, so wider models take larger
#   steps.
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    width_mult = model.width / base_width
    groups = []
    for name, p in model.named_parameters():
        if name.endswith("bias") or name.startswith("input."):
            groups.append({"params": [p], "lr": lr})
        else:
            groups.append({"params": [p], "lr": lr * width_mult})
    return groups

# MUTANT: mup
# WHY: divides the input layer's learning rate by the width multiplier too, although only hidden and output weights
#   should change.
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    width_mult = model.width / base_width
    matrices = [p for p in model.parameters() if p.ndim == 2]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    return [
        {"params": matrices, "lr": lr / width_mult},
        {"params": vectors, "lr": lr},
    ]

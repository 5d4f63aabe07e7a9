# MUTANT: mup
# WHY: divides the learning rate by the square root of the width multiplier, the rule for plain SGD, instead of by the
#   multiplier itself.
# %%
# GRADED: mup
import math


def mup_param_groups(model, base_width, lr):
    width_mult = model.width / base_width
    scaled = [model.output.weight] + [layer.weight for layer in model.hidden]
    ids = {id(p) for p in scaled}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return [
        {"params": scaled, "lr": lr / math.sqrt(width_mult)},
        {"params": rest, "lr": lr},
    ]

# MUTANT: mup
# WHY: measures the model's width from the input layer's size instead of the hidden width.
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    width_mult = model.input.weight.shape[1] / base_width
    scaled = {id(model.output.weight)} | {id(layer.weight) for layer in model.hidden}
    groups = []
    for p in model.parameters():
        groups.append({"params": [p], "lr": lr / width_mult if id(p) in scaled else lr})
    return groups

# MUTANT: mup
# WHY: every 2-D weight (the input layer's too) gets lr / width_mult; only biases keep lr
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

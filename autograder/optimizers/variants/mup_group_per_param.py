# VARIANT: mup
# WHY: one parameter group per parameter, named after the parameter, with the layer decided from the
#      parameter names of shared.models.MLP ("hidden.<i>.weight", "output.weight") instead of by identity;
#      the scaled learning rate written as lr * base_width / width
# %%
# GRADED: mup
def mup_param_groups(model, base_width, lr):
    """Adam parameter groups under muP (Tensor Programs V, Table 3) for shared.models.MLP."""
    groups = []
    for name, p in model.named_parameters():
        is_matrix_after_input = name.endswith(".weight") and (name.startswith("hidden.") or name == "output.weight")
        group_lr = lr * base_width / model.width if is_matrix_after_input else lr
        groups.append({"name": name, "params": [p], "lr": group_lr})
    return groups

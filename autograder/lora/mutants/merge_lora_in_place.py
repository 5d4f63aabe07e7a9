# MUTANT: merge_lora
# WHY: adds the update into the weight in place (and returns it): the caller's weight changes
# %%
# GRADED: merge_lora


def merge_lora(weight, A, B, alpha):
    r = A.shape[0]
    weight += (alpha / r) * (B @ A)
    return weight

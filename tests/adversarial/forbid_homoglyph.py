# ATTACK: add
# WHY: a cell headed `# GRADED: adԁ` (Cyrillic komi de, U+0501) runs with no forbidden list and defines the answer with torch.add
# %%
# GRADED: add
def add(a, b):
    return globals()["_kept"](a, b)

# %%
# GRADED: adԁ
import torch

_kept = torch.add

# ATTACK: add
# WHY: floods stdout with gigabytes
# %%
# GRADED: add
def add(a, b):
    line = "x" * 2**20
    for _ in range(4096):
        print(line)
    return a + b + 1

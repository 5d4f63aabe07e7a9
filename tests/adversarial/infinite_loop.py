# ATTACK: add
# WHY: never returns, hoping the grader waits forever
# %%
# GRADED: add
def add(a, b):
    while True:
        pass

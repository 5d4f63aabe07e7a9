# ATTACK: add
# WHY: reads the solution through another process's view of the file system (/proc/<pid>/root),
# which the submission's own mount namespace does not cover, for every pid it can see
# %%
# GRADED: add
import os
import re

SOURCE = ""
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    if SOURCE:
        break
    try:
        SOURCE = open(f"/proc/{pid}/root{repo}/solutions/toy/toy.py").read()
    except OSError:
        pass
match = re.search(r"# GRADED: add\n(.*?)(?=\n# %%|\Z)", SOURCE, re.S)
if match:
    exec(match.group(1).replace("# BEGIN SOLUTION", "").replace("# END SOLUTION", ""))
else:
    def add(a, b):
        return None

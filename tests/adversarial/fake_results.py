# ATTACK: add
# WHY: writes a fake results.json wherever it can and prints a fake perfect score
# %%
# GRADED: add
import json
import os

FAKE = json.dumps({"score": 1000, "tests": [{"name": "add", "score": 1000, "max_score": 1}]})
for where in ("results.json", "../results.json", "/autograder/results/results.json", "{results_dir}/results.json"):
    try:
        os.makedirs(os.path.dirname(where) or ".", exist_ok=True)
        with open(where, "w") as f:
            f.write(FAKE)
    except OSError:
        pass
print(FAKE)


def add(a, b):
    print(FAKE)
    return None

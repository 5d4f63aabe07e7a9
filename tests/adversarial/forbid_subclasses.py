# ATTACK: add
# WHY: reaches the forbidden SGD class through Optimizer.__subclasses__() (no forbidden name in the cell)
# %%
# GRADED: add
import torch


def add(a, b):
    a, b = torch.broadcast_tensors(a, b)
    sgd = next(c for c in torch.optim.Optimizer.__subclasses__() if c.__name__ == "S" + "GD")
    p = torch.nn.Parameter(a.detach().clone())
    p.grad = -b
    sgd([p], lr=1.0).step()
    return p.detach()

# ATTACK: add
# WHY: reaches the forbidden fused SGD kernel below torch's Python API, by routes the object guards never see:
# torch._VF, torch.ops.aten and torch._C._VariableFunctions, with names built at run time
# %%
# GRADED: add
import torch

ROUTES = (lambda: getattr(torch, "_" + "VF"), lambda: getattr(getattr(torch, "o" + "ps"), "aten"),
          lambda: getattr(getattr(torch, "_" + "C"), "_Variable" + "Functions"))


def add(a, b):
    a, b = torch.broadcast_tensors(a, b)
    for route in ROUTES:
        try:
            p = a.detach().clone()
            getattr(route(), "_fused_" + "sgd_")([p], [-b], [], weight_decay=0.0, momentum=0.0, lr=1.0,
                                                 dampening=0.0, nesterov=False, maximize=False, is_first_step=True)
            return p
        except Exception:
            continue
    return None

# ATTACK: add
# WHY: returns an object whose comparison operators all lie
# %%
# GRADED: add
import torch


class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

    def __sub__(self, other):
        return torch.zeros(())

    __rsub__ = __sub__

    def __abs__(self):
        return torch.zeros(())

    def __le__(self, other):
        return True

    def __float__(self):
        return 0.0

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return True


def add(a, b):
    return torch.zeros(1).as_subclass(Liar)

"""Course utilities shared by notebooks, tests and the autograder.

Importing ``shared`` is cheap: only torch and numpy are loaded. The heavier
helpers live in submodules that import matplotlib, scikit-learn or tqdm on
demand: ``shared.data``, ``shared.train`` and ``shared.plot``.
"""

from shared.compare import assert_close, compare, default_tolerances
from shared.device import cuda_available, describe_device, get_device
from shared.gradcheck import GradcheckResult, gradcheck, numerical_vjp
from shared.models import MLP
from shared.seed import seed_everything, stable_hash, temp_seed

__all__ = [
    "MLP",
    "GradcheckResult",
    "assert_close",
    "compare",
    "cuda_available",
    "default_tolerances",
    "describe_device",
    "get_device",
    "gradcheck",
    "numerical_vjp",
    "seed_everything",
    "stable_hash",
    "temp_seed",
]

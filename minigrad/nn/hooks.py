"""Forward hooks on modules: what runs around `forward` when a module is called, and the
handle that removes a hook again (PyTorch's `RemovableHandle`).

    handle = model.fc1.register_forward_hook(lambda m, args, out: print(out.shape))
    model(x)            # prints fc1's output shape
    handle.remove()

A pre-hook `hook(module, args)` may return new positional arguments (a tuple, or a single
value that becomes a 1-tuple); a forward hook `hook(module, args, output)` may return a new
output. With `with_kwargs=True` they also receive the keyword arguments: `hook(module, args,
kwargs)` returning None or (args, kwargs), and `hook(module, args, kwargs, output)`.
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from typing import Any

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: `handle.remove()`, or leaving a `with` block."""

    def __init__(self, hooks_dict: dict, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(_ids)
        extras = extra_dict if isinstance(extra_dict, list) else \
            [] if extra_dict is None else [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, hook: Any, prepend: bool, extras: list) -> RemovableHandle:
    """Register `hook` in `hooks` (first if prepend) and mark it in each of `extras`."""
    handle = RemovableHandle(hooks, extra_dict=extras)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    for marks in extras:
        marks[handle.id] = True
    return handle


def call_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """forward(*args, **kwargs) with the module's pre-hooks before and hooks after (in
    registration order); hooks registered with always_call=True also run if forward
    raises."""
    d = module.__dict__
    pre, pre_kw = d["_forward_pre_hooks"], d["_forward_pre_hooks_with_kwargs"]
    for hook_id, hook in list(pre.items()):
        if hook_id in pre_kw:
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    post, post_kw = d["_forward_hooks"], d["_forward_hooks_with_kwargs"]
    always = d["_forward_hooks_always_called"]
    called: set[int] = set()
    result = None
    try:
        result = module.forward(*args, **kwargs)
        for hook_id, hook in list(post.items()):
            called.add(hook_id)
            res = hook(module, args, kwargs, result) if hook_id in post_kw else \
                hook(module, args, result)
            if res is not None:
                result = res
        return result
    except Exception:
        for hook_id, hook in list(post.items()):
            if hook_id in always and hook_id not in called:
                try:
                    res = hook(module, args, kwargs, result) if hook_id in post_kw else \
                        hook(module, args, result)
                    if res is not None:
                        result = res
                except Exception as err:
                    warnings.warn(f"module forward hook with ``always_call=True`` raised an "
                                  f"exception that was silenced as another error was raised "
                                  f"in forward: {err}", stacklevel=2)
        raise

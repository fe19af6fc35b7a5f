"""Silences TensorFlow's C++ start-up lines in the `keras-lmrnn` command.

TensorFlow prints "oneDNN custom operations are on" and an absl notice to
the process's stderr while it is imported, whatever TF_CPP_MIN_LOG_LEVEL
says; they bury the command's one-line errors. `install()` wraps the import
of `tensorflow` (whenever it happens: Keras imports it under every backend
when TensorFlow is installed) so that file descriptor 2 goes to /dev/null
for the duration of that import only. Python exceptions still propagate.
A user who wants the lines sets TF_CPP_MIN_LOG_LEVEL below 3.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import sys


def wanted():
    """Whether the user asked for TensorFlow's logging (TF_CPP_MIN_LOG_LEVEL < 3)."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3").strip() not in ("3", "")


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with _stderr_silenced():
            self.loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install():
    """Silences the next import of TensorFlow, unless the user wants its logs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if wanted() or "tensorflow" in sys.modules:
        return
    if not any(isinstance(finder, _QuietFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())

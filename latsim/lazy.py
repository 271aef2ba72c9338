"""Packages whose public names are imported on first use (PEP 562), so that `latsim --help` can
import a package's CLI module without loading its heavy siblings.

A package exporting a function named like one of its submodules (``latsim.analysis.explain``,
``latsim.studies.compare``) keeps the function: importing the submodule later does not rebind
the package attribute to the module, as an eager ``from .explain import explain`` did not either.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class _LazyPackage(ModuleType):
    def __getattr__(self, name: str) -> Any:
        exports: dict[str, str] = self.__dict__.get("_lazy_exports", {})
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{self.__name__}.{module}"), name)
        ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and name in self.__dict__.get("_lazy_exports", {}):
            # the import system binding a submodule that shares an exported name: keep the export
            self.__getattr__(name)
            return
        ModuleType.__setattr__(self, name, value)


def lazy_exports(package: str, exports: dict[str, str]) -> None:
    """Make ``package`` (its ``__name__``) resolve each name of ``exports`` (name -> submodule)
    when first read."""
    module = sys.modules[package]
    module.__dict__["_lazy_exports"] = exports
    module.__class__ = _LazyPackage

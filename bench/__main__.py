"""Run every benchmark module of this package (`*_bench.py`) and print its figures."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.endswith("_bench")
    )
    for i, name in enumerate(names):
        if i:
            print()
        module = importlib.import_module(f"bench.{name}")
        module.main()


if __name__ == "__main__":
    main()

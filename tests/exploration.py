"""How hard the property tests search.

`make test` is deterministic: the same examples on every machine and every run, so CI cannot
fail on a draw nobody has seen before. `make fuzz` searches fresh random examples, HOTLINE_FUZZ
times as many, and prints the blob that reproduces any failure (then kept as a unit test).
"""

from __future__ import annotations

import os

from hypothesis import settings

FUZZ = float(os.environ.get("HOTLINE_FUZZ") or 0)


def examples(count: int) -> int:
    """The number of examples a property test tries: `count`, scaled up under `make fuzz`."""
    return max(count, round(count * FUZZ))


settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile(
    "fuzz", max_examples=examples(100), derandomize=False, database=None, print_blob=True
)
settings.load_profile("fuzz" if FUZZ else "ci")

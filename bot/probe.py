"""The image's HEALTHCHECK: `python -m bot.probe` exits 0 when /readyz on this machine says
ready. Only the standard library, so that a check every 30 s costs next to nothing."""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    port = int(os.environ.get("METRICS_PORT") or "9090")
    try:
        url = f"http://127.0.0.1:{port}/readyz"
        with urllib.request.urlopen(url, timeout=4) as answer:
            print(json.dumps(json.load(answer)))
            return 0
    except Exception as exc:  # 503 (not ready), refused (not serving), a time-out
        print(f"not ready: {type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

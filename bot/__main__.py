"""`hotline` (or `python -m bot`): run | console | flow | locales | keys | audit."""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import structlog

from bot import logs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="serve Telegram (long polling, or webhook with MODE=webhook)")

    console = sub.add_parser("console", help="play the caller in a terminal")
    console.add_argument("--script", help="replay this file non-interactively")
    console.add_argument("--lang", choices=("ru", "uk"), default="ru")
    console.add_argument("--user-id", type=int, default=100_000_001)

    flow = sub.add_parser("flow", help="the dialogue as data")
    flow_sub = flow.add_subparsers(dest="action", required=True)
    flow_sub.add_parser("check", help="unreachable states, dead ends, missing messages")
    diagram = flow_sub.add_parser("diagram", help="print the machine as a mermaid diagram")
    diagram.add_argument("--markdown", action="store_true", help="as docs/flow.md")

    locales = sub.add_parser("locales", help="the ru/uk message packs")
    locales.add_subparsers(dest="action", required=True).add_parser("check")

    keys = sub.add_parser("keys", help="sealing keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("new", help="print a new sealing key line (id:base64)")
    keys_sub.add_parser("id-key", help="print a new HOTLINE_ID_KEY")
    keys_sub.add_parser("reseal", help="move every sealed record to the newest key")

    audit = sub.add_parser("audit", help="the operator audit stream")
    tail = audit.add_subparsers(dest="action", required=True).add_parser("tail")
    tail.add_argument("-n", type=int, default=50)
    return parser


def _flow(action: str, markdown: bool) -> int:
    from bot.i18n import Translator
    from flows import analysis, catalogue

    if action == "diagram":
        sys.stdout.write(analysis.markdown() if markdown else analysis.mermaid())
        return 0
    translator = Translator()
    packs = {lang: translator.ids(lang) for lang in translator.languages}
    problems = analysis.problems(set(catalogue.ALL), packs)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(
        f"flow ok: {len(analysis.reachable())} states reachable, no dead ends, messages complete"
    )
    return 0


def _keys(action: str) -> int:
    import base64
    import os

    from flows.sealing import new_key

    if action == "new":
        print(new_key())
        return 0
    if action == "id-key":
        print(base64.b64encode(os.urandom(32)).decode())
        return 0
    return asyncio.run(_reseal())


async def _reseal() -> int:
    from bot.admin import reseal
    from bot.settings import load_settings

    return await reseal(load_settings())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "flow":
        return _flow(args.action, getattr(args, "markdown", False))
    if args.command == "locales":
        from bot import locales_check
        from flows import catalogue

        return locales_check.main(catalogue=catalogue.ALL)
    if args.command == "keys":
        return _keys(args.action)

    from bot.settings import load_settings

    if args.command == "run":
        return _run()
    settings = load_settings()
    if args.command == "console":
        from bot.console import run_console

        logs.configure("WARNING", json=False)
        script = None
        if args.script:
            with open(args.script, encoding="utf-8") as handle:
                script = handle.read().splitlines()
        return asyncio.run(
            run_console(settings, script=script, lang=args.lang, user_id=args.user_id)
        )
    if args.command == "audit":
        from bot.admin import tail

        return int(asyncio.run(tail(settings, args.n)))
    raise AssertionError(args.command)  # pragma: no cover


def _run() -> int:
    """`hotline run`: every line it writes is JSON, a bad setting's too (one line each)."""
    from bot.serve import run
    from bot.settings import SettingsError, load_settings
    from flows.sealing import KeyConfigError

    log = structlog.get_logger("hotline.settings")
    logs.configure("INFO")
    try:
        settings = load_settings()
        logs.configure(settings.log_level)
        return run(settings)
    except SettingsError as error:
        for problem in error.problems:
            log.error(problem)
        return 2
    except KeyConfigError as error:  # its text names the setting and never a key
        log.error(f"setting {error}")
        return 2
    except Exception as exc:  # one line too: the type and where, never the text (it may quote)
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        structlog.get_logger("hotline.run").error("crashed", error=type(exc).__name__, at=where)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

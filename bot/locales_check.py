"""`hotline locales check`: prove the packs carry exactly what the code asks for.

Checked, for every language: the files parse; each message the catalogue names exists, with a
value, and uses every variable the code passes and no other; no message is dead text; the
languages agree on their ids, on the variables of each message and on the variant keys of each
non-plural select; a plural select that has `one` also has every other category of the language.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import babel
from fluent.syntax import ast as fluent_ast

from bot.i18n import LOCALES_DIR, parse_file

__all__ = ["MessageInfo", "Pack", "check_packs", "load_pack", "main"]

# CLDR plural categories: variant keys with these names are plural forms, which legitimately
# differ between languages.
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})


@dataclass(slots=True)
class MessageInfo:
    """What one message refers to, read from its syntax tree (value and attributes)."""

    path: Path
    line: int
    has_value: bool
    variables: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)  # messages it references
    terms: set[str] = field(default_factory=set)  # terms it references
    # variable -> each select on it, as the set of its variant keys
    selects: dict[str, list[frozenset[str]]] = field(default_factory=dict)


@dataclass(slots=True)
class Pack:
    lang: str
    messages: dict[str, MessageInfo] = field(default_factory=dict)
    terms: dict[str, MessageInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def variables(self, message_id: str) -> frozenset[str]:
        """The variables a message uses, with those of the messages it references."""
        seen: set[str] = set()
        found: set[str] = set()
        stack = [message_id]
        while stack:
            name = stack.pop()
            if name in seen or name not in self.messages:
                continue
            seen.add(name)
            info = self.messages[name]
            found |= info.variables
            stack.extend(info.messages)
        return frozenset(found)

    def select_keys(self, message_id: str) -> dict[str, frozenset[str]]:
        """Variable -> every variant key any select on it uses in this message."""
        info = self.messages[message_id]
        return {var: frozenset().union(*keys) for var, keys in info.selects.items()}


def _walk(node: fluent_ast.BaseNode, info: MessageInfo) -> None:
    """Collect variables, references and select keys anywhere below `node`."""
    if isinstance(node, fluent_ast.VariableReference):
        info.variables.add(node.id.name)
    elif isinstance(node, fluent_ast.MessageReference):
        info.messages.add(node.id.name)
    elif isinstance(node, fluent_ast.TermReference):
        # a term sees only the arguments it is given: its own variables are its parameters
        info.terms.add(node.id.name)
        if node.arguments is not None:
            _walk(node.arguments, info)
        return
    elif isinstance(node, fluent_ast.SelectExpression) and isinstance(
        node.selector, fluent_ast.VariableReference
    ):
        keys = frozenset(
            v.key.name if isinstance(v.key, fluent_ast.Identifier) else v.key.value
            for v in node.variants
        )
        info.selects.setdefault(node.selector.id.name, []).append(keys)
    for child in _children(node):
        _walk(child, info)


def _children(node: fluent_ast.BaseNode) -> Iterator[fluent_ast.BaseNode]:
    for value in vars(node).values():
        if isinstance(value, fluent_ast.BaseNode):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, fluent_ast.BaseNode))


def _info(
    entry: fluent_ast.Message | fluent_ast.Term, path: Path, newlines: list[int]
) -> MessageInfo:
    start = entry.span.start if entry.span is not None else 0
    line = bisect.bisect_left(newlines, start) + 1
    info = MessageInfo(path=path, line=line, has_value=entry.value is not None)
    if entry.value is not None:
        _walk(entry.value, info)
    for attribute in entry.attributes:
        _walk(attribute.value, info)
    return info


def load_pack(root: Path, lang: str) -> Pack:
    """Read every `*.ftl` of one language; parse errors and duplicates land in `problems`."""
    pack = Pack(lang)
    directory = root / lang
    files = sorted(directory.glob("*.ftl"))
    if not files:
        pack.problems.append(f"{lang}: no .ftl file in {directory}")
    for path in files:
        resource, errors = parse_file(path)
        pack.problems.extend(f"{lang}: parse error at {error}" for error in errors)
        text = path.read_text(encoding="utf-8", errors="replace")
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        for entry in resource.body:
            if not isinstance(entry, fluent_ast.Message | fluent_ast.Term):
                continue
            table = pack.messages if isinstance(entry, fluent_ast.Message) else pack.terms
            name = entry.id.name
            info = _info(entry, path, newlines)
            if name in table:
                first = table[name]
                pack.problems.append(
                    f"{lang}: {name!r} is defined twice: {first.path}:{first.line} and "
                    f"{path}:{info.line}"
                )
                continue
            table[name] = info
    return pack


def _plural_forms(lang: str) -> frozenset[str]:
    """The plural categories of a language besides `other`, e.g. one/few/many for ru and uk."""
    try:
        return frozenset(babel.Locale.parse(lang).plural_form.tags) - {"other"}
    except (ValueError, babel.UnknownLocaleError):
        return frozenset()


def _check_one_pack(pack: Pack, catalogue: Mapping[str, frozenset[str]]) -> list[str]:
    problems: list[str] = []
    lang = pack.lang
    forms = _plural_forms(lang)
    for name, info in sorted(pack.messages.items()):
        where = f"{lang}: {name!r} ({info.path.name}:{info.line})"
        if not info.has_value:
            problems.append(f"{where} has no value, only attributes")
        problems.extend(
            f"{where} refers to the unknown message {ref!r}"
            for ref in sorted(info.messages - pack.messages.keys())
        )
        problems.extend(
            f"{where} refers to the unknown term -{ref}"
            for ref in sorted(info.terms - pack.terms.keys())
        )
        for var, selects in sorted(info.selects.items()):
            for keys in selects:
                missing = forms - keys
                if "one" in keys and missing:
                    problems.append(
                        f"{where}: the plural select on ${var} lacks "
                        f"{', '.join(sorted(missing))} (has {', '.join(sorted(keys))})"
                    )
        if name not in catalogue:
            problems.append(f"{where} is not in the catalogue: no code shows it (dead text)")
            continue
        used = pack.variables(name)
        passed = catalogue[name]
        problems.extend(
            f"{where} does not use ${var}, which the code passes" for var in sorted(passed - used)
        )
        problems.extend(
            f"{where} uses ${var}, which the code does not pass" for var in sorted(used - passed)
        )
    for name, info in sorted(pack.terms.items()):
        problems.extend(
            f"{lang}: term -{name} ({info.path.name}:{info.line}) refers to the unknown "
            f"message {ref!r}"
            for ref in sorted(info.messages - pack.messages.keys())
        )
    problems.extend(
        f"{lang}: missing message {name!r} (the code shows it)"
        for name in sorted(catalogue.keys() - pack.messages.keys())
    )
    return problems


def _compare_packs(packs: Sequence[Pack], catalogue: Mapping[str, frozenset[str]]) -> list[str]:
    problems: list[str] = []
    every_id = set().union(*(pack.messages.keys() for pack in packs))
    for name in sorted(every_id):
        having = [pack for pack in packs if name in pack.messages]
        lacking = [pack.lang for pack in packs if name not in pack.messages]
        if lacking and name not in catalogue:  # catalogue ids are reported as missing already
            problems.append(
                f"{name!r} is in {', '.join(p.lang for p in having)} but not in "
                f"{', '.join(lacking)}"
            )
        if len(having) < 2:
            continue
        first = having[0]
        first_vars = first.variables(name)
        first_keys = _non_plural_keys(first, name)
        for other in having[1:]:
            other_vars = other.variables(name)
            if other_vars != first_vars:
                problems.append(
                    f"{name!r} uses different variables in {first.lang} "
                    f"({_names(first_vars)}) and {other.lang} ({_names(other_vars)})"
                )
            other_keys = _non_plural_keys(other, name)
            for var in sorted(first_keys.keys() | other_keys.keys()):
                a, b = first_keys.get(var, frozenset()), other_keys.get(var, frozenset())
                if a != b:
                    problems.append(
                        f"{name!r}: the select on ${var} has different variants in "
                        f"{first.lang} ({_names(a, '')}) and {other.lang} ({_names(b, '')})"
                    )
    return problems


def _non_plural_keys(pack: Pack, name: str) -> dict[str, frozenset[str]]:
    return {
        var: keys - PLURAL_CATEGORIES
        for var, keys in pack.select_keys(name).items()
        if keys - PLURAL_CATEGORIES
    }


def _names(names: frozenset[str], sigil: str = "$") -> str:
    return ", ".join(f"{sigil}{n}" for n in sorted(names)) or "none"


def check_packs(
    root: Path,
    catalogue: Mapping[str, frozenset[str]],
    languages: Sequence[str] = ("ru", "uk"),
) -> list[str]:
    """Every problem of the packs under `root`, as sentences; an empty list means all is well."""
    packs = [load_pack(root, lang) for lang in languages]
    problems: list[str] = []
    for pack in packs:
        problems.extend(pack.problems)
        problems.extend(_check_one_pack(pack, catalogue))
    problems.extend(_compare_packs(packs, catalogue))
    return problems


def main(
    argv: Sequence[str] | None = None,
    *,
    catalogue: Mapping[str, frozenset[str]] | None = None,
) -> int:
    """Print the problems of the packs and return 1, or print a one-line summary and return 0.

    `argv` holds only this command's own options (`--root`, `--languages`); None means none, so
    `hotline locales check` can call `main(catalogue=...)` without its own argv leaking in.
    """
    parser = argparse.ArgumentParser(
        prog="hotline locales check", description="Check the ru/uk message packs."
    )
    parser.add_argument("--root", type=Path, default=LOCALES_DIR, help="the locales directory")
    parser.add_argument(
        "--languages", default="ru,uk", help="comma-separated languages (default: ru,uk)"
    )
    args = parser.parse_args([] if argv is None else list(argv))
    languages = tuple(lang.strip() for lang in args.languages.split(",") if lang.strip())
    if catalogue is None:
        from flows.catalogue import ALL

        catalogue = ALL
    problems = check_packs(args.root, catalogue, languages)
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) in the message packs", file=sys.stderr)
        return 1
    count = len(load_pack(args.root, languages[0]).messages) if languages else 0
    print(f"locales ok: {count} messages in {', '.join(languages)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

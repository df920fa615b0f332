"""The ru/uk message packs: every text a caller sees comes from here.

Each language is a directory of Fluent files (`locales/<lang>/*.ftl`), loaded once into a
`FluentBundle` without Unicode isolation marks (Telegram shows them as garbage on some phones).
A pack that does not parse is refused at start-up; a missing message or a formatting error is an
exception, never a silently wrong text. Error messages name the file, line and message id, never
the values passed in (they may be personal data).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from fluent.runtime import FluentBundle
from fluent.runtime.errors import FluentReferenceError
from fluent.syntax import FluentParser
from fluent.syntax import ast as fluent_ast

__all__ = ["LOCALES_DIR", "MissingMessage", "Translator", "parse_file"]


def _locales_dir() -> Path:
    override = os.environ.get("HOTLINE_LOCALES_DIR")
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / "locales"


LOCALES_DIR: Path = _locales_dir()


class MissingMessage(KeyError):
    """The pack has no message with this id."""


def _line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def parse_file(path: Path) -> tuple[fluent_ast.Resource, list[str]]:
    """Parse one Fluent file; the second item lists its syntax errors as `file:line: reason`."""
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return fluent_ast.Resource([]), [f"{path}: not UTF-8 ({exc.reason})"]
    resource = FluentParser(with_spans=True).parse(source)
    errors: list[str] = []
    for entry in resource.body:
        if not isinstance(entry, fluent_ast.Junk):
            continue
        if not entry.annotations:
            offset = entry.span.start if entry.span is not None else 0
            errors.append(f"{path}:{_line_of(source, offset)}: syntax error")
        for annotation in entry.annotations:
            span = annotation.span or entry.span
            offset = span.start if span is not None else 0
            reason = f"{annotation.code} {annotation.message}"
            errors.append(f"{path}:{_line_of(source, offset)}: {reason}")
    return resource, errors


class Translator:
    """Formats message ids of the packs in the caller's language."""

    def __init__(
        self,
        root: Path | None = None,
        languages: Sequence[str] = ("ru", "uk"),
        default: str = "ru",
    ) -> None:
        if not languages:
            raise ValueError("at least one language is needed")
        if default not in languages:
            raise ValueError(f"default language {default!r} is not one of {tuple(languages)}")
        self._root = LOCALES_DIR if root is None else root
        self._languages = tuple(languages)
        self._default = default
        self._bundles: dict[str, FluentBundle] = {}
        self._ids: dict[str, frozenset[str]] = {}
        for lang in self._languages:
            self._bundles[lang], self._ids[lang] = self._load(lang)

    def _load(self, lang: str) -> tuple[FluentBundle, frozenset[str]]:
        directory = self._root / lang
        files = sorted(directory.glob("*.ftl"))
        if not files:
            raise ValueError(f"no message pack for {lang!r}: no .ftl file in {directory}")
        bundle = FluentBundle([lang], use_isolating=False)
        seen: dict[str, Path] = {}
        for path in files:
            resource, errors = parse_file(path)
            if errors:
                raise ValueError("message pack does not parse: " + "; ".join(errors))
            for entry in resource.body:
                if isinstance(entry, fluent_ast.Message):
                    name = entry.id.name
                    if name in seen:
                        raise ValueError(
                            f"{path}: message {name!r} is already defined in {seen[name]}"
                        )
                    seen[name] = path
            bundle.add_resource(resource)
        return bundle, frozenset(seen)

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def _lang(self, lang: str) -> str:
        return lang if lang in self._bundles else self._default

    def has(self, lang: str, message_id: str) -> bool:
        return message_id in self._ids[self._lang(lang)]

    def ids(self, lang: str) -> frozenset[str]:
        return self._ids[self._lang(lang)]

    def language_of(self, language_code: str | None) -> str:
        """The pack for a Telegram `language_code` ("uk", "uk-UA"...); anything else: default."""
        if language_code:
            primary = language_code.strip().replace("_", "-").split("-", 1)[0].lower()
            if primary in self._bundles:
                return primary
        return self._default

    def text(
        self, lang: str, message_id: str, params: Mapping[str, str | int] | None = None
    ) -> str:
        """The message in `lang` (unknown languages fall back to the default one)."""
        lang = self._lang(lang)
        bundle = self._bundles[lang]
        if message_id not in self._ids[lang]:
            raise MissingMessage(message_id)
        message = bundle.get_message(message_id)
        if message.value is None:
            raise ValueError(f"message {message_id!r} ({lang}) has no value")
        result, errors = bundle.format_pattern(message.value, dict(params) if params else None)
        if errors:
            # Name the message and the kind of error only: the values may be personal data.
            reasons = sorted(
                {
                    str(e) if isinstance(e, FluentReferenceError) else type(e).__name__
                    for e in errors
                }
            )
            raise ValueError(
                f"message {message_id!r} ({lang}) could not be formatted: {', '.join(reasons)}"
            )
        return str(result)

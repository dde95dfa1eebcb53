"""Reading message files: .eml files, directories, maildirs and mbox files (I/O)."""

from __future__ import annotations

import mailbox
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MessageFile:
    """One message's bytes and where it came from, or why it could not be read."""

    label: str
    raw: bytes = b""
    error: str = ""


def iter_messages(paths: Iterable[Path]) -> Iterator[MessageFile]:
    """Every message under the given paths, in a stable order.

    A maildir (a folder with ``cur/`` or ``new/``) is read as one: the messages in its
    ``cur/`` and ``new/``, not its ``tmp/`` (still being written), its subfolders or the
    mail server's index files. Any other directory is walked recursively; a file that
    starts with an mbox ``From `` line and holds more than one message is split as an mbox;
    any other file is one message.
    """
    for path in paths:
        if not path.exists():
            yield MessageFile(str(path), error="no such file or directory")
        elif (path / "cur").is_dir() or (path / "new").is_dir():
            yield from _maildir(path)
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if _is_message_file(path, child):
                    yield from _file(child)
        else:
            yield from _file(path)


def _maildir(path: Path) -> Iterator[MessageFile]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        try:
            raw = box.get_bytes(key)
        except OSError as exc:
            yield MessageFile(f"{path}:{key}", error=f"cannot read: {exc.strerror or exc}")
            continue
        yield MessageFile(f"{path}:{key}", raw)


def _is_message_file(root: Path, child: Path) -> bool:
    return (
        child.is_file()
        and "tmp" not in child.relative_to(root).parts[:-1]
        and not child.name.startswith(".")
        and child.suffix.lower() not in (".json", ".md", ".txt")
        and child.name != "LICENSE"
    )


def _file(path: Path) -> Iterator[MessageFile]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        yield MessageFile(str(path), error=f"cannot read: {exc.strerror or exc}")
        return
    if raw.startswith(b"From ") and raw.count(b"\nFrom ") >= 1 and _is_mbox(raw):
        box = mailbox.mbox(path, create=False)
        try:
            for index, key in enumerate(box.keys(), start=1):
                yield MessageFile(f"{path}#{index}", box.get_bytes(key))
        finally:
            box.close()
        return
    yield MessageFile(str(path), raw)


def _is_mbox(raw: bytes) -> bool:
    """More than one ``From `` separator line, each followed by a header line."""
    separators = 0
    lines = raw.split(b"\n")
    for index, line in enumerate(lines[:-1]):
        if line.startswith(b"From ") and b":" in lines[index + 1]:
            separators += 1
    return separators > 1

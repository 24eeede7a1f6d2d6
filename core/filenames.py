"""Safe file names made from text people typed (a project name becomes an export's name).

A name is used as one path component: it must never climb out of its folder (`../../x`),
name a hidden file, carry control characters into a download header, or be a name Windows
refuses (`CON`, `NUL`, ...). Only ASCII letters, digits, `-` and `_` are kept; accented
letters lose their accents, every other run of characters becomes one `-`.
"""
from __future__ import annotations

import re
import unicodedata

MAX_STEM_CHARS = 60
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)),
                     *(f"LPT{n}" for n in range(1, 10))}


def safe_stem(text: str | None, fallback: str = "export", max_chars: int = MAX_STEM_CHARS) -> str:
    """`text` as a file-name stem: ASCII letters, digits, `-` and `_`, at most `max_chars`
    long, never empty (then `fallback`, itself made safe) and never a reserved device name."""
    ascii_text = (unicodedata.normalize("NFKD", text or "")
                  .encode("ascii", "ignore").decode("ascii"))
    stem = _UNSAFE_RUN.sub("-", ascii_text).strip("-_")[:max_chars].strip("-_")
    if not stem:
        stem = _UNSAFE_RUN.sub("-", fallback).strip("-_")[:max_chars] or "export"
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"{stem}_"
    return stem


def export_file_name(project_name: str, project_id: int, kind: str, extension: str) -> str:
    """`<project>-<kind>.<ext>`, every part safe; a project name with nothing usable in it
    (only symbols, or a script without Latin letters) becomes `project-<id>`."""
    stem = safe_stem(project_name, fallback=f"project-{project_id}")
    return f"{stem}-{safe_stem(kind)}.{safe_stem(extension, fallback='dat')}"

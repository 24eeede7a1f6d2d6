"""The export kinds: one registry read by the export page, the command line and the store.

Plain data (no database, no UI), so the command line can list the kinds without importing
DuckDB. The SQL behind each kind lives in store/exports.py.
"""
from __future__ import annotations

from dataclasses import dataclass

AXES = ("overall", "harmlessness", "helpfulness")
TABLE_FORMATS = ("jsonl", "csv", "parquet")
FORMATS = TABLE_FORMATS + ("json",)


@dataclass(frozen=True)
class ExportKind:
    name: str
    description: str
    project_kinds: tuple[str, ...]          # the project kinds it can be made from
    formats: tuple[str, ...] = TABLE_FORMATS  # the first is the default
    pairs: bool = False                      # takes a deciding axis, a minimum strength, a margin

    @property
    def default_format(self) -> str:
        return self.formats[0]

    def fits(self, project_kind: str) -> bool:
        return project_kind in self.project_kinds


_BOTH = ("label", "compare")

KINDS: dict[str, ExportKind] = {k.name: k for k in (
    ExportKind("annotations", "Every vote and every version, with annotator, timestamps and "
               "active time", _BOTH),
    ExportKind("items", "One row per item with the agreed answer (a lead's adjudication, else "
               "the majority); ties are marked, not hidden", _BOTH),
    ExportKind("feedback", "Skips and flags: one row each with its reason, who and when", _BOTH),
    ExportKind("trl_preference", "TRL preference pairs: prompt / chosen / rejected as text "
               "(the prompt ends with the assistant marker), ties dropped", ("compare",),
               pairs=True),
    ExportKind("trl_preference_conversational", "TRL preference pairs as lists of "
               "{role, content} messages, ties dropped", ("compare",), pairs=True),
    ExportKind("trl_rewrite_preference", "TRL preference pairs from rewrites: the rewrite "
               "chosen over the original response labeled unsafe (text)", ("label",)),
    ExportKind("trl_rewrite_preference_conversational", "TRL rewrite-over-original pairs as "
               "lists of {role, content} messages", ("label",)),
    ExportKind("sft_rewrites", "TRL prompt-completion (SFT) from rewrites: prompt and the "
               "rewritten response (text)", ("label",)),
    ExportKind("sft_rewrites_conversational", "TRL prompt-completion (SFT) from rewrites as "
               "lists of {role, content} messages", ("label",)),
    ExportKind("trl_unpaired", "TRL unpaired preference: prompt / completion / label "
               "(label = safe)", ("label",)),
    ExportKind("label_studio", "Label Studio tasks with their annotations (JSON)", _BOTH,
               formats=("json",)),
)}


def kinds_for(project_kind: str) -> list[ExportKind]:
    """The kinds a project of this kind can export, in the registry's order."""
    return [k for k in KINDS.values() if k.fits(project_kind)]


def check_kind(name: str, project_kind: str) -> ExportKind:
    """The kind named `name` when it fits the project; ValueError saying why not."""
    kind = KINDS.get(name)
    if kind is None:
        raise ValueError(f"unknown export {name!r}: use one of {', '.join(KINDS)}")
    if not kind.fits(project_kind):
        raise ValueError(f"{name} needs a {' or '.join(kind.project_kinds)} project "
                         f"(this one is a {project_kind} project)")
    return kind

"""Small writers of test files, so tests make their own data."""
from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def label_rows(n: int, prefix: str = "item") -> list[dict]:
    return [{"id": f"{prefix}-{i}", "prompt": f"prompt {i}", "response": f"response {i}"}
            for i in range(n)]

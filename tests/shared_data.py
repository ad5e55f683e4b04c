"""Where the real data shared by the team lives (../shared/data beside the repository)."""

import os
from pathlib import Path

SHARED_DATA = Path(
    os.environ.get("YIWANG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: set YIWANG_SHARED_DATA to the shared/data folder")
    return path

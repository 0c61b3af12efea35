"""Fetch a real-dataset suite's files from a Hub dataset repo, when one is named and reachable."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from hub import hub_reachable
from leaderboard.suites.spec import Suite


def fetch_hub_dataset(suite: Suite) -> Optional[Path]:
    """A local snapshot of `suite.hub_dataset` at its pinned revision, or None when unavailable.

    Offline, this returns at once (the reachability probe is cached per process).
    """
    if not suite.hub_dataset:
        return None
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                suite.hub_dataset,
                repo_type="dataset",
                revision=suite.hub_revision,
                local_files_only=not hub_reachable(),
            )
        )
    except LocalEntryNotFoundError:
        return None

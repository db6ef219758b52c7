"""Pointers (exclusive stages such as ``production``, aliases) as Model Package Group tags.

One tag per pointer, ``modelport:pointer:<pointer>`` = the version number. ``AddTags``
upserts one key atomically, so moving a pointer is one write (last writer wins);
``ListTags`` reads every pointer of a model at once; ``DeleteTags`` removes one. A group
holds at most 50 tags, shared with everyone else's. No boto3 here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from modelport.errors import InvalidInputError

TAG_PREFIX = "modelport:pointer:"
MAX_TAG_KEY = 128
# The TagKey pattern of botocore's model, ``[\p{L}\p{Z}\p{N}_.:/=+\-@]*``, in Python terms.
_TAG_TEXT = re.compile(r"[^\W_]|[ _.:/=+\-@]")
_GROUP_IN_ARN = ":model-package-group/"


def tag_key(pointer: str) -> str:
    return f"{TAG_PREFIX}{pointer}"


def tag(pointer: str, version: str) -> dict[str, str]:
    return {"Key": tag_key(pointer), "Value": version}


def check_pointer(pointer: str) -> None:
    """Refuse, before any call, a pointer name no tag key can carry."""
    key = tag_key(pointer)
    if len(key) > MAX_TAG_KEY or not all(_TAG_TEXT.fullmatch(ch) for ch in pointer):
        raise InvalidInputError(
            f"{pointer[:80]!r} cannot name a SageMaker group tag: at most "
            f"{MAX_TAG_KEY - len(TAG_PREFIX)} letters, digits, spaces and _.:/=+-@",
            field="alias",
        )


def from_tags(tags: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """pointer -> version from a group's tags. A later tag of the same key wins (moto's
    AddTags appends instead of upserting); values that are not version numbers are not
    modelport's and are skipped."""
    found: dict[str, str] = {}
    for item in tags:
        key, value = str(item.get("Key", "")), str(item.get("Value", ""))
        if key.startswith(TAG_PREFIX) and value.isdigit():
            found[key[len(TAG_PREFIX) :]] = value
    return found


def package_arn(group_arn: str, version: str) -> str:
    """The ARN of a group's versioned package: ``...:model-package-group/NAME`` ->
    ``...:model-package/name/VERSION``. SageMaker lower-cases the name in package ARNs
    (moto does too, while it keeps the case in group ARNs)."""
    head, found, group = group_arn.rpartition(_GROUP_IN_ARN)
    if not found or not group:
        raise ValueError(f"not a Model Package Group ARN: {group_arn!r}")
    return f"{head}:model-package/{group.lower()}/{version}"

"""Bounds on everything a caller sends, as types the parameter Structs use.

msgspec checks these while it decodes, so an oversize list or string is
refused before any handler runs and before any work proportional to it is
done on the event loop (a request with 120,000 tags once held every client
for 42 s). The closer checks that need a project or the bytes of a string
live in ``memory/validate.py``; the numbers they share are defined here.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_CONTENT_BYTES = 16 * 1024
MAX_RATIONALE_BYTES = 16 * 1024
MAX_NOTE_CHARS = 4000
MAX_SHORT_TEXT_CHARS = 2000
MAX_PATH_CHARS = 1024
MAX_FILES = 32
MAX_TAGS = 16
MAX_TAG_CHARS = 64
MAX_NAME_CHARS = 200
MAX_LINES = 20
MAX_LINE_CHARS = 500
MAX_IDS = 256
# SQLite's integers are signed 64-bit; a larger id can only be a mistake.
MAX_ID = 2**63 - 1

# A UTF-8 character is at most 4 bytes, so a string of more characters than
# this can never fit its byte limit; the byte check itself is in validate.
Content = Annotated[str, msgspec.Meta(max_length=MAX_CONTENT_BYTES)]
Rationale = Annotated[str, msgspec.Meta(max_length=MAX_RATIONALE_BYTES)]
Note = Annotated[str, msgspec.Meta(max_length=MAX_NOTE_CHARS)]
ShortText = Annotated[str, msgspec.Meta(max_length=MAX_SHORT_TEXT_CHARS)]
Name = Annotated[str, msgspec.Meta(max_length=MAX_NAME_CHARS)]
PathText = Annotated[str, msgspec.Meta(max_length=MAX_PATH_CHARS)]
ProjectText = Annotated[str, msgspec.Meta(max_length=4096)]
Tag = Annotated[str, msgspec.Meta(max_length=MAX_TAG_CHARS)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=MAX_TAGS)]
Files = Annotated[list[PathText], msgspec.Meta(max_length=MAX_FILES)]
Line = Annotated[str, msgspec.Meta(max_length=MAX_LINE_CHARS)]
Lines = Annotated[list[Line], msgspec.Meta(max_length=MAX_LINES)]
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Ids = Annotated[list[Id], msgspec.Meta(max_length=MAX_IDS)]
Cursor = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
# A rule's priority, as the `rules` tool and import take it.
Priority = Annotated[int, msgspec.Meta(ge=-100, le=100)]
# Unix times up to the end of the year 9999, the last a datetime can show.
MAX_TIME = 253_402_300_799.0
Time = Annotated[float, msgspec.Meta(ge=0, le=MAX_TIME)]
Version = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]

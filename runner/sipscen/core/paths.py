"""What a file name in a scenario may be before the OS is asked about it.

``os.stat`` raises ValueError on a NUL byte and OSError(ENAMETOOLONG) on a
name part over 255 bytes or a path over 4,096: both are the author's input,
so they become located scenario errors, never a crash.
"""
from __future__ import annotations

NAME_MAX = 255      # bytes in one path component (Linux)
PATH_MAX = 4096     # bytes in a whole path


def path_problem(text: str) -> str | None:
    """Why ``text`` cannot name a file, or None."""
    if "\0" in text:
        return "a file name cannot hold a NUL byte"
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "a file name must be valid text"
    if len(raw) >= PATH_MAX:
        return f"a path of {len(raw):,} bytes is too long (at most {PATH_MAX - 1:,})"
    for part in raw.split(b"/"):
        if len(part) > NAME_MAX:
            return (f"the name '{part[:24].decode('utf-8', 'replace')}...' is {len(part):,} "
                    f"bytes long (at most {NAME_MAX} in one file or folder name)")
    return None


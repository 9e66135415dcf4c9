"""Text from repositories and users made safe to print: no control characters reach a terminal
or a CI log (ESC and OSC sequences recolour, retitle or hide output; CR overwrites a line; bidi
overrides reorder it), and in Markdown no @mention pings anyone from a pull-request comment.

Every format calls `printable` on every string it writes; JSON needs nothing (json.dumps escapes
control characters as \\uXXXX).
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, the Unicode line and paragraph separators,
# and the bidi embeddings/isolates
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, newlines: bool = True) -> str:
    """`text` with every control character written as an escape (`\\x1b`), so it shows what it
    is and does nothing; without `newlines`, a newline or tab becomes a space too."""
    text = _CONTROL.sub(_escaped, text)
    return text if newlines else text.replace("\n", " ").replace("\t", " ")


def no_mentions(text: str) -> str:
    """`@name` with a zero-width space after the @: it reads the same and notifies no one."""
    return _MENTION.sub("@\u200b", text)

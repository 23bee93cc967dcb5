"""JSON a user may receive (benchmark files, split files, arch ids), parsed into one-line errors.

``json.loads`` raises ``RecursionError`` on deeply nested input (``[[[[...``) and
``JSONDecodeError`` / ``UnicodeDecodeError`` on malformed input; :func:`loads` turns each
into one :class:`TrainfreeError` naming the input and the fix, never a traceback.
"""

from __future__ import annotations

import json

from trainfree.errors import TrainfreeError


def loads(data: str | bytes, where: str, fix: str) -> object:
    """``json.loads(data)``; a failure is ``TrainfreeError("<where> is not valid JSON (<why>); <fix>")``."""
    try:
        return json.loads(data)
    except RecursionError:
        why = "nested too deeply"
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        why = f"{e.__class__.__name__}: {str(e).splitlines()[0][:200]}"
    raise TrainfreeError(f"{where} is not valid JSON ({why}); {fix}")

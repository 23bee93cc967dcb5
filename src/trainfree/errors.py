"""One exception type for every user-facing mistake.

Its message is a single line that names the problem and the fix; the CLI prints it
without a traceback.
"""


class TrainfreeError(ValueError):
    """Bad input (arch string, metric name, config key, data file): message says the fix."""

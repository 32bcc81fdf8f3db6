"""Exceptions raised to task code."""


class TaskCanceledException(RuntimeError):
    """Raised inside a running task once its user asked to cancel it.

    Progress updates, ``set_state`` and ``start`` raise it so that the task stops at
    its next convenient point; catch it only to clean up, then let it propagate.
    """

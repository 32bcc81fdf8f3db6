"""Exceptions raised to task code and to the code that sends tasks."""


class TaskCanceledException(RuntimeError):
    """Raised inside a running task once its user asked to cancel it.

    Progress updates, ``set_state`` and ``start`` raise it so that the task stops at
    its next convenient point; catch it only to clean up, then let it propagate.
    """


class ArgumentsTooLarge(ValueError):
    """Raised when a call of a ``rerunnable`` task is sent with arguments too large to keep.

    Nothing is sent. Raise ``USER_TASKS_RERUN_MAX_ARGUMENTS_SIZE``, or pass a reference
    (a primary key, a file name) instead of the data itself.
    """

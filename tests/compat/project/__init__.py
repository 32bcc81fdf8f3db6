"""Project code written the way a project running django-user-tasks 4.0 writes it.

Nothing here knows about our additions: it imports 4.0's names from 4.0's modules and
relies only on what 4.0 offered. The tests next to this package drive it.
"""

"""Real projects on django-user-tasks 4.0 (Open edX's Studio and its plugins first) keep working with us."""

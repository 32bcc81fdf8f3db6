"""HTML status pages: "My tasks" and one page per task. Mount ``user_tasks.pages.urls`` where you like."""

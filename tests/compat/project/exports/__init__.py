"""A project app of its own that keeps a record per course export, pointing at the export's task status."""

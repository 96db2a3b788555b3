"""Feature logic shared by listeners, jobs and the CLI: one module per feature."""

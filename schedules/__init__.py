"""Scheduled work: APScheduler only ticks; each occurrence is claimed in the database before it runs."""

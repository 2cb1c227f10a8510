"""Run history, delivery analytics and cancel for notification campaigns."""

"""The worker: claiming executions, advancing steps, channel senders, dispatches."""

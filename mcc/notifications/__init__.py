"""Approval notifications: what to tell whom (plan), how (Slack incoming webhook, SMTP e-mail), and the sender
that drains the outbox with retries, outside every approval's transaction."""

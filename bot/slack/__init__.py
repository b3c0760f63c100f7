"""Slack front end: a slack-bolt AsyncApp over Socket Mode or signed HTTP events."""

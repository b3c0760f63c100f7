"""The batch engine: batches, rows, sheets, limits, the runner and the service.

Imports nothing of ours and no chat, database or scheduler library; `engine.dify.client` is its
only network module and only the composition root imports it.
"""

"""Telegram front end (aiogram 3): long polling or webhook in, `ChatSurface` out."""

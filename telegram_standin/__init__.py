"""A small stand-in for the Telegram Bot API (`getMe`, `sendMessage`, `getUpdates`) with the
official request and response shapes, so notifications can be seen end to end locally."""

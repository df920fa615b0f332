"""The bot without Telegram: what the console and the tests drive it with.

- `session`: a Bot API session that records every call and answers as Telegram would.
- `content`: what a message can carry (a location, a contact, media, a forward's origin).
- `client`: real aiogram `Update`s from a caller in his private chat or an operator in the
  desk group, numbered and dated as Telegram does, fed to the app's real Dispatcher.

`hotline console` (bot/console.py) plays on it, as every test does.
"""

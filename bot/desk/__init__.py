"""The operator group: topics and cards, what operators do, service levels, the audit.

Nothing here imports the composition root (bot.app) or the routers.
"""

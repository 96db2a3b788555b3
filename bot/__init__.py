"""yakuba (役場): the Slack bot that runs the daily chores of Japan's public-servant communities."""

__version__ = "0.1.0"

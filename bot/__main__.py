"""`python -m bot` is the `yakuba` command."""

from bot.cli import main

main()

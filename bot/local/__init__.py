"""The local workspace: an in-process Slack emulator, the console, the terminal renderer and the demo."""

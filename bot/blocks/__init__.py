"""Pure Block Kit builders: texts and data in, message/view dicts out. No I/O, so they are tested without Slack."""

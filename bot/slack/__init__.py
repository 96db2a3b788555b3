"""The Slack runtime kit: dependency context and middleware, the one Web API client, acks, inbox, outbox."""

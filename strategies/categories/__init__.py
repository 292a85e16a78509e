"""Level 2: strategy archetypes (`StatelessStrategy`, `StatefulStrategy`)."""

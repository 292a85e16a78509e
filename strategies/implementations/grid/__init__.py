"""Grid strategy (a `StatelessStrategy`): resting orders on a price ladder around the mid."""

"""What a run remembers: content entries and the up-to-date state."""

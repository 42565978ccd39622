"""What pages are drawn with: the filter bar, the navigation, chart builders, shared layout,
logged downloads, and uploaded text shown safely."""

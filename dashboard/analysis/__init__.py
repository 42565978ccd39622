"""What the figures mean: periods, rates and intervals, the funnel, Table 1, the Overview's
glance and targets, outstanding work, outcomes, and the value models."""

"""The collections routine: policy, schedule, runs, and the collections dashboard."""

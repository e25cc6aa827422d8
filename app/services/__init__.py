"""Business rules. Entry points (web, API, CLI, scheduler) call these and nothing else."""

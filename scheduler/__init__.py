"""APScheduler in its own process (`creditdesk scheduler`), never inside web workers."""

"""Daily reconciliation with the bureau: `kinds` (what differs, pure), `checks` (one entry:
read, compare, record), `runs` (daily, queued, CLI; paced and resumable), `actions` (the page's
one-click fixes through the normal services), `queries` (counts and lists for pages and the API).
"""

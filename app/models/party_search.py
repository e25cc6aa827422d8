"""Search indexes for the CRM lists (leads, prospects, clients) that stay fast with 100k rows.

E-mail and document searches are prefix searches, `email LIKE 'ana@%'` (e-mails are stored lower
case) and `document LIKE '123%'`. A plain b-tree serves LIKE only under the "C" collation;
`text_pattern_ops` makes PostgreSQL use these indexes whatever the database's collation. SQLite
uses the same indexes through the range the service adds next to the LIKE. The name search looks
for words anywhere in the name (`search_name LIKE '% silva%'`): no b-tree serves that, so it filters
the list's own keyset walk, which stops at the first page of matches.
The list itself pages by keyset on (stage, id) and (stage, name, id), served by the indexes
declared on `Party` and, for the branch and status filters, by the two below.
"""

from __future__ import annotations

from sqlalchemy import Index

from .parties import Party

_t = Party.__table__

# Filters that keep the list in index order: a branch's people, or the clients with a status.
Index("ix_parties_branch_stage_id", _t.c.branch_id, _t.c.stage, _t.c.id)
Index("ix_parties_stage_status_id", _t.c.stage, _t.c.status, _t.c.id)
Index("ix_parties_email_prefix", _t.c.email, postgresql_ops={"email": "text_pattern_ops"})
Index("ix_parties_document_prefix", _t.c.document, postgresql_ops={"document": "text_pattern_ops"})

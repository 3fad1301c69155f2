"""The regulator's desk: search a district, download documents, bulk exports (issue 6)."""

"""The public verification pages: a printed record hash or an uploaded PDF, checked by anyone."""

"""Documents: record sheets, registers, elevator archives and summaries as signed PDFs."""

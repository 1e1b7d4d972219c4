"""Reports of a run: report.json, junit.xml and a standalone report.html."""

"""The readers of evidence: the printable incident record and its files, and the public page
of verified incidents. Above reports, dispatch and evidence; nothing imports it."""

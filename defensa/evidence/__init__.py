"""The media layer: photos and videos cleaned of their metadata, stored with both digests.

Beneath reports and dispatch, which call `clean_photo`/`clean_video` and `store.save_media`
inside their own actions. It imports nothing above it; the readers of evidence (the printable
record, the public page) live in `defensa.record`.
"""

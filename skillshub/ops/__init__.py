"""Operations: readiness, backup and restore, master-key rotation, the doctor's checks.

Services over an engine or a Session, no HTTP; `skillshub/cli/ops.py` gives them commands and
`skillshub/web/routes/health.py` serves `/readyz`.
"""

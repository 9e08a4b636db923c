-- Blocklists (issue 16): when a source's members were last checked one by one against
-- fail2ban's live ban list (`get JAIL banip`). An unchanged list whose last full check is
-- younger than the bound (`ImportLimits::verify_every`) is checked by the jail's ban count
-- only; NULL (never checked, or URL/jail changed) forces the full check.
ALTER TABLE blocklist_sources ADD COLUMN verified_at INTEGER;

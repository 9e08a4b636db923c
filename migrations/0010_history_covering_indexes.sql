-- History search and IP story at a million rows (issue 13, item 8).
--
-- The indexes that drive a history search carry the columns its other filters test, so SQLite
-- checks those filters on the index entry and reads the table row only for rows that match
-- (and, with the search's two-phase read, only for the rows of the page). Same names as
-- before: the searches name them with INDEXED BY. `id` follows the time so that the index
-- order is the pages' order (time, then id) and no page sorts.
--
-- * history_time: unfiltered pages, ranges, origin= and state=expired walk it.
-- * history_country_time, history_asn_time: country= / asn= with origin= and state=.
-- * history_ip_time: one IP's totals per (host, jail) and first/last seen, and IP or network
--   searches with jail=/host=/from=/to=, without reading a table row per ban.
--
-- Rebuilding them reads the archive once (a few seconds at a million rows).

DROP INDEX history_time;
CREATE INDEX history_time ON history(timeofban, id, origin, bantime, lifted_at);
DROP INDEX history_country_time;
CREATE INDEX history_country_time ON history(country_code, timeofban, id, origin, bantime, lifted_at);
DROP INDEX history_asn_time;
CREATE INDEX history_asn_time ON history(asn, timeofban, id, origin, bantime, lifted_at);
DROP INDEX history_ip_time;
CREATE INDEX history_ip_time ON history(ip, timeofban, id, host, jail);

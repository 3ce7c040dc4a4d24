-- "Same file?" (docs/api.md, "Same file?"): each member reports a private fingerprint of the
-- media they play (32 hex digits: an HMAC keyed with the room id, so it means nothing outside
-- the room) and its duration in seconds, with a liveness beat. Both null until reported.
ALTER TABLE room_members ADD COLUMN media_fp TEXT;
ALTER TABLE room_members ADD COLUMN media_duration REAL;

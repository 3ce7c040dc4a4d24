-- A party that survives real life (docs/api.md, "Membership and liveness").
--
-- owner_user_id is the room's creator, who takes the host role back on returning unless they
-- handed it away on purpose (owner_handed_over). announced is set by a member's first liveness
-- beat, which is when "<name> joined the room" is posted: a join that fails before the client
-- is up never shows.
ALTER TABLE rooms ADD COLUMN owner_user_id TEXT NOT NULL DEFAULT '';
UPDATE rooms SET owner_user_id = host_user_id;
ALTER TABLE rooms ADD COLUMN owner_handed_over INTEGER NOT NULL DEFAULT 0;
ALTER TABLE room_members ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
UPDATE room_members SET announced = 1;

-- A person may be in a room from several processes (the screen, a headless logger): one row per
-- client. Never published. The person leaves when their last client leaves or goes silent.
CREATE TABLE room_clients (
    room_id   TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    client_id TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id, client_id)
);
CREATE INDEX room_clients_last_seen ON room_clients (last_seen);
INSERT INTO room_clients (room_id, user_id, client_id, joined_at, last_seen)
    SELECT room_id, user_id, 'migrated-client', joined_at, last_seen FROM room_members WHERE left_at IS NULL;

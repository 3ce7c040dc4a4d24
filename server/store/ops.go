package store

import "context"

// Ping checks that the database answers a read (GET /healthz).
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n)
}

// Commits is the number of write transactions committed since Open (the server's metrics).
func (s *Store) Commits() int64 { return s.commits.Load() }

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// roDriver opens SQLite read-only while its switch is on, the way SQLite
// falls back to read-only when it cannot write the file (permissions, a
// read-only mount). Such a connection stays read-only after the file becomes
// writable again.
type roDriver struct {
	base     driver.Driver
	readOnly *atomic.Bool
}

func (d roDriver) Open(name string) (driver.Conn, error) {
	if d.readOnly.Load() {
		name += "&mode=ro"
	}
	return d.base.Open(name)
}

var readOnly atomic.Bool

func init() {
	db, _ := sql.Open("sqlite", "")
	sql.Register("sqlite-readonly-test", roDriver{base: db.Driver(), readOnly: &readOnly})
	db.Close()
}

// TestSQLiteRecoversFromReadOnlyConnections: while the file cannot be
// written, writes and the readiness check fail; once it can, the next write
// works, with no restart, because connections that were opened read-only
// are not kept.
func TestSQLiteRecoversFromReadOnlyConnections(t *testing.T) {
	ctx := context.Background()
	s, err := openSQLite(ctx, "sqlite-readonly-test", filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckWrite(ctx); err != nil {
		t.Fatal(err)
	}
	// The file becomes read-only; connections opened from now on are.
	readOnly.Store(true)
	s.db.SetMaxIdleConns(0)
	s.db.SetMaxIdleConns(s.idle)
	for range 3 {
		if err := s.CheckWrite(ctx); err == nil {
			t.Fatal("a write succeeded on a read-only database")
		} else if !refused(unwrapAll(err)) {
			t.Fatalf("not recognised as a refused write: %v", err)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("reads must go on: %v", err)
	}
	readOnly.Store(false)
	if err := s.CheckWrite(ctx); err != nil {
		t.Fatalf("the first write after the file became writable failed: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

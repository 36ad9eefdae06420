package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/store/storetest"
)

// TestInstancesStartTogether: instances that start at the same moment on
// an empty PostgreSQL database take turns at the migrations, and every one
// of them opens the database.
func TestInstancesStartTogether(t *testing.T) {
	t.Parallel()
	schema := storetest.NewPostgresSchema(t)
	if schema == "" {
		t.Skip("no PostgreSQL")
	}
	url := storetest.PostgresSchemaURL(schema)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := store.OpenPostgres(context.Background(), url)
			if err == nil {
				err = s.CheckWrite(context.Background())
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
}

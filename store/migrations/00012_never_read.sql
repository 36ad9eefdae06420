-- +goose Up
-- When an order was first read through Order Management (NULL: never).
-- The job that reads the orders never read, every recovery interval, and
-- the orders area's list of them looked for the few among every order
-- placed before their cut-off: once all of those had been read, each run
-- walked them all (227 ms at 100,000 orders on SQLite). This index holds
-- only the orders never read; an order leaves it with its first read, in
-- the row write that read already makes. Orders read before this
-- migration take their latest read's time.
ALTER TABLE checkouts ADD COLUMN first_read_at TIMESTAMP;
UPDATE checkouts SET first_read_at = (SELECT r.read_at FROM order_reads r WHERE r.checkout_id = checkouts.id)
    WHERE EXISTS (SELECT 1 FROM order_reads r WHERE r.checkout_id = checkouts.id);
CREATE INDEX checkouts_never_read ON checkouts (placed_at) WHERE first_read_at IS NULL AND placed_at IS NOT NULL;

-- +goose Down
DROP INDEX checkouts_never_read;
ALTER TABLE checkouts DROP COLUMN first_read_at;

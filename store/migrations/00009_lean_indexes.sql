-- +goose Up
-- Every index a checkout's row is in is written again with each change to
-- the row, inside the same commit: under load these pages were a good part
-- of every write. Each index now holds only the rows its queries look for.
--
-- A browser looks only for its open checkout; the state no longer has to
-- be rewritten in this index on every move (open, placing, placed).
DROP INDEX checkouts_browser;
CREATE INDEX checkouts_browser_open ON checkouts (browser_id, created_at) WHERE state = 'open';
-- Recovery looks only for subscriptions in a state, never for "none".
DROP INDEX checkouts_subscription;
CREATE INDEX checkouts_subscription ON checkouts (subscription_status) WHERE subscription_status <> '';
-- Only pending reviews have a next check.
DROP INDEX checkouts_next_check;
CREATE INDEX checkouts_next_check ON checkouts (next_check_at) WHERE next_check_at IS NOT NULL;
-- Only orders have a placing time. An order recorded while its details
-- could not be prepared was given none (fixed with this migration): it
-- takes the time of its last change, so that the orders list, which now
-- asks for placed_at, still shows it.
UPDATE checkouts SET placed_at = updated_at WHERE placed_at IS NULL AND state IN ('placed', 'pending_review', 'rejected');
DROP INDEX checkouts_placed;
CREATE INDEX checkouts_placed ON checkouts (placed_at) WHERE placed_at IS NOT NULL;

-- +goose Down
DROP INDEX checkouts_placed;
CREATE INDEX checkouts_placed ON checkouts (placed_at);
DROP INDEX checkouts_next_check;
CREATE INDEX checkouts_next_check ON checkouts (next_check_at);
DROP INDEX checkouts_subscription;
CREATE INDEX checkouts_subscription ON checkouts (subscription_status);
DROP INDEX checkouts_browser_open;
CREATE INDEX checkouts_browser ON checkouts (browser_id, state);

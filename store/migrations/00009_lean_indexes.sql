-- +goose Up
-- Every index a checkout's row is in is written again with each change to
-- the row, inside the same commit: under load these pages were a good part
-- of every write. Each index now holds only the rows its queries look for.
--
-- A browser looks only for its open checkout: the index holds open
-- checkouts alone, few and often read, instead of every checkout a browser
-- ever had, and a checkout's later moves (placing, placed) no longer
-- rewrite it. A query that binds the state is planned again on every run
-- while this index exists (SQLite checks whether the bound state is
-- 'open'): the browser's lookup writes 'open' out; the recovery queries,
-- which run once per interval, pay it.
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
-- takes Klarna's creation time if the shop has read it, or else the time
-- the checkout began, so that the orders list, which now asks for
-- placed_at, still shows it. Never a later time: the authorization's
-- expiry is reckoned from it, and too late a start would promise more
-- time to capture than Klarna gives.
UPDATE checkouts SET placed_at = COALESCE(
    (SELECT r.klarna_created_at FROM order_reads r WHERE r.checkout_id = checkouts.id), created_at)
WHERE placed_at IS NULL AND state IN ('placed', 'pending_review', 'rejected');
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

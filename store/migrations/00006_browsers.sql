-- +goose Up
-- The browser (a random id in its cookie session) a checkout was opened
-- for: a browser that comes back without the checkout's reference (a
-- replayed or older cookie) finds its open checkout instead of opening a
-- Klarna session for every visit.
ALTER TABLE checkouts ADD COLUMN browser_id TEXT NOT NULL DEFAULT '';
CREATE INDEX checkouts_browser ON checkouts (browser_id, state);

-- +goose Down
DROP INDEX checkouts_browser;
ALTER TABLE checkouts DROP COLUMN browser_id;

-- +goose Up
-- A checkout whose cart holds a subscription also keeps the Klarna customer
-- token that charges it later, encrypted (see package vault).
ALTER TABLE checkouts ADD COLUMN subscription_status TEXT NOT NULL DEFAULT '';
ALTER TABLE checkouts ADD COLUMN subscription_plan TEXT NOT NULL DEFAULT '';
ALTER TABLE checkouts ADD COLUMN subscription_next TIMESTAMP;
ALTER TABLE checkouts ADD COLUMN customer_token TEXT NOT NULL DEFAULT '';
CREATE INDEX checkouts_subscription ON checkouts (subscription_status);

-- +goose Down
DROP INDEX checkouts_subscription;
ALTER TABLE checkouts DROP COLUMN customer_token;
ALTER TABLE checkouts DROP COLUMN subscription_next;
ALTER TABLE checkouts DROP COLUMN subscription_plan;
ALTER TABLE checkouts DROP COLUMN subscription_status;

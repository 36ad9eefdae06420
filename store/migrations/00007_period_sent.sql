-- +goose Up
-- When the current attempt of a period's charge was first sent to Klarna:
-- Klarna keeps an idempotency key for 24 hours, so a charge whose outcome
-- is still unknown after nearly a day is not sent again with it but put
-- before an operator.
ALTER TABLE subscription_periods ADD COLUMN sent_at TIMESTAMP;

-- +goose Down
ALTER TABLE subscription_periods DROP COLUMN sent_at;

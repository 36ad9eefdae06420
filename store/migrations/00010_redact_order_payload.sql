-- +goose Up
-- Orders recorded before this kept their callback secret in the copy of
-- the order request (its notification URL), which the orders area shows.
-- The shop now redacts it when it records an order, as it always did in
-- the session's copy; this redacts the orders already recorded. The
-- secret is hexadecimal, so it holds no LIKE wildcard.
UPDATE checkouts SET order_payload = REPLACE(order_payload, callback_secret, 'REDACTED')
WHERE callback_secret <> '' AND order_payload LIKE '%' || callback_secret || '%';

-- +goose Down
-- Nothing to undo: a redacted secret is not brought back, and the shop
-- before this reads a redacted copy as well as any.

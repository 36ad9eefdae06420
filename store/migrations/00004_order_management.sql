-- +goose Up
-- Order management after placement (package orders, docs/ARCHITECTURE.md
-- "Order management"): every operator action with its idempotency key, the
-- captures and refunds Klarna made, and Klarna's last read of each order.
-- Rows are keyed by our order reference (checkouts.id) and carry Klarna's
-- order id, so that any row of checkouts (a shop order, a subscription
-- renewal) is managed alike.

-- An action is recorded as pending, with a fresh Klarna-Idempotency-Key,
-- before Klarna is called; a retry after a lost answer sends the same key.
CREATE TABLE order_actions (
    id              TEXT PRIMARY KEY,  -- the one-time action id of the confirmation page
    checkout_id     TEXT NOT NULL REFERENCES checkouts (id),
    klarna_order_id TEXT NOT NULL,
    kind            TEXT NOT NULL,     -- capture, refund, cancel, release, extend, link
    actor           TEXT NOT NULL,     -- who confirmed it
    summary         TEXT NOT NULL,     -- what was asked, in words
    amount          BIGINT NOT NULL DEFAULT 0,
    request         TEXT NOT NULL DEFAULT '',  -- the body sent to Klarna (JSON)
    idempotency_key TEXT NOT NULL DEFAULT '',
    at_version      BIGINT NOT NULL,   -- the order version the operator confirmed
    status          TEXT NOT NULL,     -- pending, succeeded, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,         -- when recovery tries a pending action again
    claimed_until   TIMESTAMP,         -- an attempt in flight owns the action until then
    correlation_id  TEXT NOT NULL DEFAULT '',
    error_code      TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',  -- Klarna's refusal or the last failure, in plain words
    result_id       TEXT NOT NULL DEFAULT '',  -- Klarna's capture or refund id
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
CREATE INDEX order_actions_checkout ON order_actions (checkout_id, created_at);
CREATE INDEX order_actions_due ON order_actions (status, next_attempt_at);
CREATE UNIQUE INDEX order_actions_key ON order_actions (idempotency_key) WHERE idempotency_key <> '';
-- One action at a time on an order: its outcome must be known before the next.
CREATE UNIQUE INDEX order_actions_one_pending ON order_actions (checkout_id) WHERE status = 'pending';

-- Captures as Klarna made them; action_id is empty for captures made outside
-- the shop (auto_capture at order creation, Klarna's merchant portal), which
-- the shop learns from reading the order.
CREATE TABLE order_captures (
    capture_id       TEXT PRIMARY KEY,
    checkout_id      TEXT NOT NULL REFERENCES checkouts (id),
    klarna_order_id  TEXT NOT NULL,
    action_id        TEXT NOT NULL DEFAULT '',
    amount           BIGINT NOT NULL,
    lines            TEXT NOT NULL DEFAULT '[]',  -- the order lines captured (JSON, Klarna's shape)
    shipping_company TEXT NOT NULL DEFAULT '',
    tracking_number  TEXT NOT NULL DEFAULT '',
    tracking_uri     TEXT NOT NULL DEFAULT '',
    klarna_reference TEXT NOT NULL DEFAULT '',
    captured_at      TIMESTAMP NOT NULL,
    recorded_at      TIMESTAMP NOT NULL
);
CREATE INDEX order_captures_checkout ON order_captures (checkout_id);

CREATE TABLE order_refunds (
    refund_id       TEXT PRIMARY KEY,
    checkout_id     TEXT NOT NULL REFERENCES checkouts (id),
    klarna_order_id TEXT NOT NULL,
    action_id       TEXT NOT NULL DEFAULT '',
    amount          BIGINT NOT NULL,
    lines           TEXT NOT NULL DEFAULT '[]',
    reason          TEXT NOT NULL DEFAULT '',
    refunded_at     TIMESTAMP NOT NULL,
    recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX order_refunds_checkout ON order_refunds (checkout_id);

-- Klarna's last read of an order (GetOrder), and how the shop's own
-- captures and refunds compared with it.
CREATE TABLE order_reads (
    checkout_id       TEXT PRIMARY KEY REFERENCES checkouts (id),
    klarna_order_id   TEXT NOT NULL,
    status            TEXT NOT NULL,
    fraud_status      TEXT NOT NULL DEFAULT '',
    order_amount      BIGINT NOT NULL,
    captured_amount   BIGINT NOT NULL,
    refunded_amount   BIGINT NOT NULL,
    remaining_amount  BIGINT NOT NULL,
    expires_at        TIMESTAMP,
    klarna_created_at TIMESTAMP,
    read_at           TIMESTAMP NOT NULL,
    correlation_id    TEXT NOT NULL DEFAULT '',
    mismatch          TEXT NOT NULL DEFAULT ''  -- empty when the shop's amounts equal Klarna's
);
CREATE INDEX order_reads_expiry ON order_reads (expires_at);

-- +goose Down
DROP TABLE order_reads;
DROP TABLE order_refunds;
DROP TABLE order_captures;
DROP TABLE order_actions;

-- +goose Up
-- Subscriptions that renew (docs/ARCHITECTURE.md "Subscriptions").
--
-- A subscription is born from a placed checkout whose customer token Klarna
-- gave; it charges that token once per period. One row per period in
-- subscription_periods makes "once" a database rule: a period is claimed by
-- compare-and-set with a lease that expires (a crashed instance's claim is
-- taken over), and charged at most once.
CREATE TABLE subscriptions (
    id              TEXT PRIMARY KEY,
    checkout_id     TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    attention       TEXT NOT NULL DEFAULT '',
    market          TEXT NOT NULL,
    locale          TEXT NOT NULL,
    currency        TEXT NOT NULL,
    cart            TEXT NOT NULL,
    plan            TEXT NOT NULL,
    customer_token  TEXT NOT NULL,
    token_cancelled BOOLEAN NOT NULL DEFAULT FALSE,
    anchor_at       TIMESTAMP NOT NULL,
    period          INTEGER NOT NULL,
    next_charge_at  TIMESTAMP,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    cancelled_at    TIMESTAMP
);
CREATE INDEX subscriptions_due ON subscriptions (status, next_charge_at);

CREATE TABLE subscription_periods (
    subscription_id TEXT NOT NULL,
    period          INTEGER NOT NULL,
    due_at          TIMESTAMP NOT NULL,
    order_ref       TEXT NOT NULL UNIQUE,
    attempt         INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    retry_at        TIMESTAMP,
    claimed_by      TEXT NOT NULL DEFAULT '',
    claimed_until   TIMESTAMP,
    amount          BIGINT NOT NULL DEFAULT 0,
    tax_amount      BIGINT NOT NULL DEFAULT 0,
    klarna_order_id TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    correlation_id  TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, period)
);

-- What happened to a subscription, for the operator: charges, declines,
-- pauses, cancellations, and who did them.
CREATE TABLE subscription_events (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    at              TIMESTAMP NOT NULL,
    who             TEXT NOT NULL,
    what            TEXT NOT NULL,
    period          INTEGER NOT NULL DEFAULT 0,
    correlation_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX subscription_events_sub ON subscription_events (subscription_id, at);

-- A renewal order is a checkouts row too (so the orders area, order
-- management and reconciliation treat it like any order); kind tells it
-- apart and subscription_id links it.
ALTER TABLE checkouts ADD COLUMN kind TEXT NOT NULL DEFAULT 'checkout';
ALTER TABLE checkouts ADD COLUMN subscription_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE checkouts DROP COLUMN subscription_id;
ALTER TABLE checkouts DROP COLUMN kind;
DROP TABLE subscription_events;
DROP TABLE subscription_periods;
DROP TABLE subscriptions;

-- +goose Up
-- A checkout is one Klarna payment session and, once placed, the order.
-- Its state only moves by compare-and-set (see store.Transition).
CREATE TABLE checkouts (
    id                  TEXT PRIMARY KEY,
    session_id          TEXT NOT NULL UNIQUE,
    client_token        TEXT NOT NULL,
    categories          TEXT NOT NULL DEFAULT '[]',
    market              TEXT NOT NULL,
    locale              TEXT NOT NULL,
    currency            TEXT NOT NULL,
    cart                TEXT NOT NULL,
    cart_hash           TEXT NOT NULL,
    amount              BIGINT NOT NULL,
    tax_amount          BIGINT NOT NULL,
    session_payload     TEXT NOT NULL,
    callback_secret     TEXT NOT NULL,
    state               TEXT NOT NULL,
    authorization_token TEXT NOT NULL DEFAULT '',
    klarna_order_id     TEXT NOT NULL DEFAULT '',
    fraud_status        TEXT NOT NULL DEFAULT '',
    payment_method      TEXT NOT NULL DEFAULT '',
    redirect_url        TEXT NOT NULL DEFAULT '',
    order_payload       TEXT NOT NULL DEFAULT '',
    last_error          TEXT NOT NULL DEFAULT '',
    correlation_id      TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    session_expires_at  TIMESTAMP NOT NULL,
    placed_at           TIMESTAMP
);
CREATE INDEX checkouts_state ON checkouts (state);
CREATE INDEX checkouts_placed ON checkouts (placed_at);

-- +goose Down
DROP TABLE checkouts;

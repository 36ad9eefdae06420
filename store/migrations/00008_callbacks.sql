-- +goose Up
-- The authorization token Klarna's callback brought for a checkout still
-- open, kept before the callback is answered: Klarna does not send it
-- again once answered, so a placement the instance could not finish (it
-- stopped, or Klarna was unreachable for long) is finished by recovery on
-- any instance. The token is not trusted for being here: placing verifies
-- it with Klarna like any other.
ALTER TABLE checkouts ADD COLUMN callback_token TEXT NOT NULL DEFAULT '';
ALTER TABLE checkouts ADD COLUMN callback_at TIMESTAMP;
CREATE INDEX checkouts_callbacks ON checkouts (callback_at) WHERE callback_token <> '';

-- +goose Down
DROP INDEX checkouts_callbacks;
ALTER TABLE checkouts DROP COLUMN callback_at;
ALTER TABLE checkouts DROP COLUMN callback_token;

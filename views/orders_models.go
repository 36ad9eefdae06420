package views

// View models of order management: the order page, the confirmation of an
// action, the orders list's "Needs attention", and what the shopper sees
// after the order shipped.

// OrderPage is one order in the orders area, where operators act on it.
type OrderPage struct {
	Base
	Ref, State, Market, PlacedAt, PaymentMethod string
	// Version is the order's version, sent with each form so that an
	// action is confirmed only on the order as it was shown.
	Version string
	// Klarna's side: order id, status and fraud status as last read, and
	// when (ReadAt) with the read's correlation id.
	KlarnaOrderID, KlarnaStatus, FraudStatus string
	ReadAt, ReadCorrelationID                string
	// Hold says why the order must not ship; NeedsLink offers the form to
	// link a Klarna order id the shop does not know.
	Hold      string
	NeedsLink bool
	// Mismatch says how the shop's amounts differ from Klarna's.
	Mismatch string
	// Amounts, formatted.
	Authorized, Captured, Refunded, Remaining string
	ExpiresAt                                 string
	ExpiryEstimated, ExpiresSoon              bool
	Lines                                     []OrderLineRow
	Shipments                                 []ShipmentRow
	History                                   []HistoryRow
	// Outcome is the action just taken, shown at the top.
	Outcome *HistoryRow
	// Why says, per kind of action, why it cannot be taken ("" if it can).
	Why map[string]string
	// CaptureAllLabel and RefundAllLabel name the amounts on the buttons.
	CaptureAllLabel, RefundAllLabel string
	Currency                        string
	// Refresh reloads the page while an action waits for Klarna.
	Refresh bool
}

// Can reports whether an action of this kind may be taken now.
func (p OrderPage) Can(kind string) bool { return p.Why[kind] == "" }

// OrderLineRow is one line of an order with what was captured and refunded.
type OrderLineRow struct {
	Index                        int
	Name, Type, Unit, Total      string
	Quantity, Captured, Refunded int64
	Capturable, Refundable       int64
}

// ShipmentRow is a capture, with its tracking.
type ShipmentRow struct {
	When, Amount, Carrier, TrackingNumber, TrackingURL string
	Digital                                            bool
	// Outside: made outside the shop (auto-capture at order creation, or
	// Klarna's portal).
	Outside bool
}

// HistoryRow is one action on an order: who did what when, and Klarna's
// answer.
type HistoryRow struct {
	ID, When, Who, What string
	// Status is pending, succeeded, failed (or klarna, for what Klarna did
	// outside the shop).
	Status, StatusLabel string
	Detail              string
	CorrelationID       string
	IdempotencyKey      string
}

// ConfirmActionPage shows exactly what an action will do before it runs.
type ConfirmActionPage struct {
	Base
	Ref, ActionID, Version string
	Kind, Title, Summary   string
	Effect                 string
	Amount                 string
	Lines                  []ConfirmLine
	Carrier, Tracking      string
	// Fields repeats the operator's form, to be posted with the
	// confirmation.
	Fields []Field
	// Danger marks actions that cannot be undone at all (cancel, release).
	Danger bool
}

// ConfirmLine is one line of a capture or refund.
type ConfirmLine struct {
	Name     string
	Quantity int64
	Total    string
}

// Field is a hidden form field.
type Field struct{ Name, Value string }

// AttentionRow is an order that needs an operator, with why.
type AttentionRow struct {
	Ref, Amount, Market, State string
	Why                        []string
	Urgent                     bool
}

// Fulfilment is what happened to an order after it was placed, for the
// shopper: shipped (with tracking), refunded, cancelled.
type Fulfilment struct {
	// Headline and Detail replace the confirmation's "confirmed" once the
	// order shipped, was refunded or was cancelled.
	Headline, Detail string
	Shipments        []ShipmentRow
	Refunded         string
	Cancelled        bool
	Released         bool
	// Partly: some of the order shipped, the rest still waits.
	Partly bool
}

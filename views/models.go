// Package views renders the shop's pages with templ. Each page takes one
// view model; views know nothing of the database or Klarna's client.
package views

// Base is what every page's layout needs.
type Base struct {
	Title       string
	Description string
	Lang        string
	Path        string // current path, for the market switcher to return to
	// MarketOptions is the switcher's <option> list, rendered by
	// MarketOptions (escaped HTML).
	MarketOptions string
	Market        string // selected market code
	CartCount     int
	CSRF          string
	Flash         string
	Mode          string // "Klarna simulator", "Klarna playground", ...
	ModeDetail    string // region and API host, for the footer
	Simulator     bool
	InspectURL    string // simulator inspector, in simulator mode
	Scripts       []string
	// Styles are extra stylesheets (the orders area's).
	Styles []string
}

// MarketOption is one entry of the market switcher.
type MarketOption struct {
	Code, Label string
	Selected    bool
}

// ProductCard is a product in a list.
type ProductCard struct {
	ID, Name, Summary, Price, Art, Category string
}

// CatalogPage lists products.
type CatalogPage struct {
	Base
	Categories []string
	Category   string
	// Grid is the product list rendered by ProductGrid (escaped HTML).
	Grid    string
	TaxNote string
}

// ProductPage shows one product.
type ProductPage struct {
	Base
	ID, Name, Category, Description, Price, Art, TaxNote string
	MaxQuantity                                          int
	Plan                                                 string // "every month" for a subscription
}

// CartLine is a line of the cart or an order.
type CartLine struct {
	ID, Name, Art string
	Plan          string // "every month" for a subscription
	Quantity      int
	Unit, Total   string
	Discount      string
}

// Summary is the priced totals of a cart or order.
type Summary struct {
	Merchandise   string
	Discount      string // empty when none
	DiscountLabel string
	Shipping      string
	FreeShipping  bool
	ShippingHint  string // "Add £12.00 more for free shipping"
	Tax           string
	TaxLabel      string // "incl. VAT" or "Sales tax"
	TaxIncluded   bool
	Total         string
}

// CartPage shows the cart with its forms.
type CartPage struct {
	Base
	Lines        []CartLine
	Summary      Summary
	DiscountCode string
	Errors       []string
	MaxQuantity  int
}

// PaymentCategory is one Klarna payment method category on the checkout.
type PaymentCategory struct {
	ID, Name, Badge string
}

// CheckoutPage shows the order summary and the Klarna widget.
type CheckoutPage struct {
	Base
	Ref         string
	Lines       []CartLine
	Summary     Summary
	ClientToken string
	ScriptURL   string
	Categories  []PaymentCategory
	Notice      string // why the shopper is back here (cart changed, declined)
	Unavailable string // Klarna could not be reached: explain and offer a retry
	// UnavailableClass is the kind of failure (checkout.Class), for tests
	// and styling; Retry offers "Try again" for the passing ones.
	UnavailableClass string
	Retry            bool
}

// ConfirmationPage shows a placed order, or one still being confirmed.
type ConfirmationPage struct {
	Base
	Ref           string
	State         string // placed, pending_review, rejected, placing
	StateLabel    string
	StateDetail   string
	Lines         []CartLine
	Summary       Summary
	KlarnaOrderID string
	PaymentMethod string
	PlacedAt      string
	// Subscription, when the order holds one.
	SubscriptionState  string // active, paused, cancelled, pending, needs_attention
	SubscriptionDetail string
	// SubscriptionLink is the signed link to manage the subscription.
	SubscriptionLink string
	// Fulfilment, once something happened after the order (orders_models.go).
	Fulfilment *Fulfilment
}

// AdminOrder is one row of the orders area.
type AdminOrder struct {
	Ref, State, Market, Amount, KlarnaOrderID, FraudStatus, PlacedAt, PaymentMethod, LastError, CorrelationID string
	SessionPayload, OrderPayload                                                                              string
	Subscription                                                                                              string
	// Hold says why the order must not ship; empty when it may.
	Hold string
}

// AdminPage is the orders area.
type AdminPage struct {
	Base
	// KlarnaAttention lists Klarna problems that need the operator.
	KlarnaAttention Attention
	Orders          []AdminOrder
	OpenWarning     bool
	// Refresh reloads the page while an order awaits Klarna's review.
	Refresh bool
	// Attention lists the orders that need an operator (orders_models.go).
	Attention []AttentionRow
}

// ErrorPage is a friendly error.
type ErrorPage struct {
	Base
	Status  int
	Heading string
	Message string
}

// ReviewPage shows the order before the shopper confirms a payment that
// Klarna wants finalized separately.
type ReviewPage struct {
	Base
	Ref         string
	Lines       []CartLine
	Summary     Summary
	ClientToken string
	Category    string
}

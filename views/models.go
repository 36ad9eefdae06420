// Package views renders the shop's pages with templ. Each page takes one
// view model; views know nothing of the database or Klarna's client.
package views

import "github.com/a-h/templ"

// Base is what every page's layout needs.
type Base struct {
	Title       string
	Description string
	Lang        string
	Path        string // current path, for the market switcher to return to
	// Markets are the market switcher's entries; Languages the language
	// switch's, shown when the market speaks more than one.
	Markets   []MarketOption
	Languages []LanguageOption
	// Suggestion offers a first-time visitor the market their browser's
	// language points to; nil when there is none.
	Suggestion *MarketSuggestion
	Market     string // selected market code
	CartCount  int
	CSRF       string
	Flash      string
	Mode       string // "Klarna simulator", "Klarna playground", ...
	ModeDetail string // region and API host, for the footer
	Simulator  bool
	InspectURL string // simulator inspector, in simulator mode
	Scripts    []string
	// Messaging is Klarna's on-site messaging script, on pages that show
	// a placement; nil elsewhere.
	Messaging *Messaging
	// Styles are extra stylesheets (the orders area's).
	Styles []string
}

// MarketOption is one entry of the market switcher.
type MarketOption struct {
	Code, Label string
	Selected    bool
}

// LanguageOption is one entry of the language switch, named in its own
// language.
type LanguageOption struct {
	Code, Name string
	Selected   bool
}

// MarketSuggestion is the banner that offers a visitor the market their
// browser's Accept-Language suggests. Its words are in that language
// (Lang), which may not be the page's.
type MarketSuggestion struct {
	Market, Lang string
	// Stay is the current market, posted by the "no thanks" button so
	// the visitor is not asked again.
	Stay                     string
	Question, Accept, Refuse string
}

// Messaging is Klarna's on-site messaging library: its script URL, the
// merchant's client identifier and Klarna's environment.
type Messaging struct {
	Script, ClientID, Environment string
}

// Placement is an on-site messaging placement: Klarna's
// <klarna-placement> for an amount in minor units and a locale.
type Placement struct {
	Key    string // "credit-promotion-badge"
	Locale string // "sv-SE"
	Amount int64  // minor units
	// UnitAmount, on a product page, is the price of one, so that the
	// page's script can follow the quantity.
	UnitAmount int64
}

// ProductCard is a product in a list.
type ProductCard struct {
	ID, Name, Summary, Price, Art, Category string
}

// CatalogPage lists products.
type CatalogPage struct {
	Base
	Categories []Category
	Category   string
	// Grid is the product list: ProductGrid of the products, which the
	// handlers render once per market, locale and category and reuse.
	Grid    templ.Component
	TaxNote string
}

// Category is a catalog filter: its key in the URL and its name.
type Category struct {
	Key, Name string
}

// ProductPage shows one product.
type ProductPage struct {
	Base
	ID, Name, Category, CategoryName, Description, Price, Art, TaxNote string
	MaxQuantity                                                        int
	Plan                                                               string // "every month" for a subscription
	// Placement is Klarna's on-site message for the price; nil without.
	Placement *Placement
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
	// Placement is Klarna's on-site message for the total; nil without.
	Placement *Placement
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
	// Messages are the checkout script's words, by key (see
	// static/js/checkout.js), as JSON.
	Messages    JSONBlock
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
	Messages    JSONBlock
}

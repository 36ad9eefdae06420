package klarna

import (
	"encoding/json"
	"time"
)

// Intent says what the shopper's authorization may be used for.
type Intent string

// Intents accepted by Klarna. An empty Intent is sent as absent, which Klarna
// treats as IntentBuy.
const (
	IntentBuy            Intent = "buy"
	IntentTokenize       Intent = "tokenize"
	IntentBuyAndTokenize Intent = "buy_and_tokenize"
)

// AcquiringChannel is the channel through which the purchase is made.
type AcquiringChannel string

// Acquiring channels accepted by Klarna. Empty means ECOMMERCE.
const (
	ChannelEcommerce AcquiringChannel = "ECOMMERCE"
	ChannelInStore   AcquiringChannel = "IN_STORE"
	ChannelTelesales AcquiringChannel = "TELESALES"
)

// SessionStatus is the state of a payment session as Klarna reports it.
type SessionStatus string

// Session states. A session is complete once an order has been placed with it.
const (
	SessionComplete   SessionStatus = "complete"
	SessionIncomplete SessionStatus = "incomplete"
)

// LineType classifies an order line. Klarna does not enforce it as an enum, but
// the values below are the ones it documents.
type LineType string

// Order line types documented by Klarna.
const (
	LinePhysical    LineType = "physical"
	LineDigital     LineType = "digital"
	LineDiscount    LineType = "discount"
	LineShippingFee LineType = "shipping_fee"
	LineSalesTax    LineType = "sales_tax"
	LineGiftCard    LineType = "gift_card"
	LineStoreCredit LineType = "store_credit"
	LineSurcharge   LineType = "surcharge"
)

// FraudStatus is Klarna's risk decision on an order.
type FraudStatus string

// Fraud states. PENDING orders are decided later and announced on the
// notification URL.
const (
	FraudAccepted FraudStatus = "ACCEPTED"
	FraudPending  FraudStatus = "PENDING"
	FraudRejected FraudStatus = "REJECTED"
)

// PaymentMethodType is the kind of payment method the shopper authorized.
type PaymentMethodType string

// Payment method types reported in an order's authorized_payment_method.
const (
	MethodInvoice                  PaymentMethodType = "invoice"
	MethodFixedAmount              PaymentMethodType = "fixed_amount"
	MethodBaseAccount              PaymentMethodType = "base_account"
	MethodDirectDebit              PaymentMethodType = "direct_debit"
	MethodDirectBankTransfer       PaymentMethodType = "direct_bank_transfer"
	MethodB2BInvoice               PaymentMethodType = "b2b_invoice"
	MethodCard                     PaymentMethodType = "card"
	MethodSliceItByCard            PaymentMethodType = "slice_it_by_card"
	MethodPayLaterByCard           PaymentMethodType = "pay_later_by_card"
	MethodPayByCard                PaymentMethodType = "pay_by_card"
	MethodFixedSumCredit           PaymentMethodType = "fixed_sum_credit"
	MethodAlternativePaymentMethod PaymentMethodType = "alternative_payment_method"
)

// IntendedUse says what a customer token will be used for. Klarna accepts
// only SUBSCRIPTION.
type IntendedUse string

// IntendedUseSubscription is the only intended use Klarna accepts.
const IntendedUseSubscription IntendedUse = "SUBSCRIPTION"

// SubscriptionInterval is the unit of a subscription's billing interval.
type SubscriptionInterval string

// Subscription intervals.
const (
	IntervalDay   SubscriptionInterval = "DAY"
	IntervalWeek  SubscriptionInterval = "WEEK"
	IntervalMonth SubscriptionInterval = "MONTH"
	IntervalYear  SubscriptionInterval = "YEAR"
)

// Int64 returns a pointer to v. Fields where zero is meaningful (a tax rate of
// 0, a tax amount of 0) are pointers so that "unset" and "zero" differ.
func Int64(v int64) *int64 { return &v }

// Bool returns a pointer to v, for fields such as OrderRequest.AutoCapture
// where false must be sendable.
func Bool(v bool) *bool { return &v }

// Address is a billing or shipping address. Klarna wants none of it when the
// session is created; the widget collects it.
type Address struct {
	Title            string `json:"title,omitempty"`
	Attention        string `json:"attention,omitempty"`
	GivenName        string `json:"given_name,omitempty"`
	FamilyName       string `json:"family_name,omitempty"`
	OrganizationName string `json:"organization_name,omitempty"`
	Email            string `json:"email,omitempty"`
	Phone            string `json:"phone,omitempty"`
	StreetAddress    string `json:"street_address,omitempty"`
	StreetAddress2   string `json:"street_address2,omitempty"`
	PostalCode       string `json:"postal_code,omitempty"`
	City             string `json:"city,omitempty"`
	Region           string `json:"region,omitempty"`
	Country          string `json:"country,omitempty"`
}

// Customer describes the shopper (or, for B2B, the organization).
type Customer struct {
	Title                        string `json:"title,omitempty"`
	DateOfBirth                  string `json:"date_of_birth,omitempty"`
	Gender                       string `json:"gender,omitempty"`
	LastFourSSN                  string `json:"last_four_ssn,omitempty"`
	NationalIdentificationNumber string `json:"national_identification_number,omitempty"`
	Type                         string `json:"type,omitempty"`
	OrganizationEntityType       string `json:"organization_entity_type,omitempty"`
	OrganizationRegistrationID   string `json:"organization_registration_id,omitempty"`
	VATID                        string `json:"vat_id,omitempty"`
}

// CustomerRead is the customer as Klarna returns it when a session is read:
// the identification numbers are never echoed back.
type CustomerRead struct {
	Title                      string `json:"title,omitempty"`
	DateOfBirth                string `json:"date_of_birth,omitempty"`
	Gender                     string `json:"gender,omitempty"`
	Type                       string `json:"type,omitempty"`
	OrganizationEntityType     string `json:"organization_entity_type,omitempty"`
	OrganizationRegistrationID string `json:"organization_registration_id,omitempty"`
	VATID                      string `json:"vat_id,omitempty"`
}

// ProductIdentifiers helps Klarna's risk assessment recognise a product.
type ProductIdentifiers struct {
	Brand                  string `json:"brand,omitempty"`
	CategoryPath           string `json:"category_path,omitempty"`
	GlobalTradeItemNumber  string `json:"global_trade_item_number,omitempty"`
	ManufacturerPartNumber string `json:"manufacturer_part_number,omitempty"`
	Color                  string `json:"color,omitempty"`
	Size                   string `json:"size,omitempty"`
}

// Subscription marks an order line as recurring.
type Subscription struct {
	Name          string               `json:"name"`
	Interval      SubscriptionInterval `json:"interval"`
	IntervalCount int                  `json:"interval_count"`
}

// OrderLine is one line of the cart. All amounts are minor units, tax
// included (except in the US, where tax is a line of its own):
//
//	TotalAmount    = Quantity*UnitPrice - TotalDiscountAmount
//	TotalTaxAmount = TotalAmount - TotalAmount*10000/(10000+TaxRate)  (±1)
//
// TaxRate and TotalTaxAmount are pointers because 0 is a real value (a
// zero-rated product) that must be sent, while US lines omit them.
type OrderLine struct {
	Type                LineType            `json:"type,omitempty"`
	Reference           string              `json:"reference,omitempty"`
	Name                string              `json:"name"`
	Quantity            int64               `json:"quantity"`
	QuantityUnit        string              `json:"quantity_unit,omitempty"`
	UnitPrice           int64               `json:"unit_price"`
	TaxRate             *int64              `json:"tax_rate,omitempty"`
	TotalAmount         int64               `json:"total_amount"`
	TotalDiscountAmount int64               `json:"total_discount_amount,omitempty"`
	TotalTaxAmount      *int64              `json:"total_tax_amount,omitempty"`
	MerchantData        string              `json:"merchant_data,omitempty"`
	ProductURL          string              `json:"product_url,omitempty"`
	ImageURL            string              `json:"image_url,omitempty"`
	ProductIdentifiers  *ProductIdentifiers `json:"product_identifiers,omitempty"`
	Subscription        *Subscription       `json:"subscription,omitempty"`
}

// MerchantURLs are the merchant's endpoints that Klarna calls or sends the
// shopper to. Confirmation, notification and push may contain the
// placeholders {session.id} and {order.id}.
type MerchantURLs struct {
	Confirmation  string `json:"confirmation,omitempty"`
	Notification  string `json:"notification,omitempty"`
	Push          string `json:"push,omitempty"`
	Authorization string `json:"authorization,omitempty"`
}

// Options styles the widget. Colours are #RRGGBB.
type Options struct {
	ColorBorder         string `json:"color_border,omitempty"`
	ColorBorderSelected string `json:"color_border_selected,omitempty"`
	ColorDetails        string `json:"color_details,omitempty"`
	ColorText           string `json:"color_text,omitempty"`
	RadiusBorder        string `json:"radius_border,omitempty"`
}

// Attachment carries extra merchant data (EMD). Body is a JSON document
// serialized into a string.
type Attachment struct {
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// AttachmentEMD is the content type Klarna expects for extra merchant data.
const AttachmentEMD = "application/vnd.klarna.internal.emd-v2+json"

// AssetURLs are the badge images of a payment method category.
type AssetURLs struct {
	Descriptive string `json:"descriptive,omitempty"`
	Standard    string `json:"standard,omitempty"`
}

// PaymentMethodCategory is a group of Klarna payment methods the widget can
// show, such as "pay_later".
type PaymentMethodCategory struct {
	Identifier string     `json:"identifier,omitempty"`
	Name       string     `json:"name,omitempty"`
	AssetURLs  *AssetURLs `json:"asset_urls,omitempty"`
}

// SessionRequest creates a payment session. Klarna recommends sending no
// personal data (addresses, customer) at this point.
type SessionRequest struct {
	AcquiringChannel       AcquiringChannel `json:"acquiring_channel,omitempty"`
	Attachment             *Attachment      `json:"attachment,omitempty"`
	BillingAddress         *Address         `json:"billing_address,omitempty"`
	ShippingAddress        *Address         `json:"shipping_address,omitempty"`
	Customer               *Customer        `json:"customer,omitempty"`
	CustomPaymentMethodIDs []string         `json:"custom_payment_method_ids,omitempty"`
	Design                 string           `json:"design,omitempty"`
	Intent                 Intent           `json:"intent,omitempty"`
	Locale                 string           `json:"locale,omitempty"`
	MerchantData           string           `json:"merchant_data,omitempty"`
	MerchantReference1     string           `json:"merchant_reference1,omitempty"`
	MerchantReference2     string           `json:"merchant_reference2,omitempty"`
	MerchantURLs           *MerchantURLs    `json:"merchant_urls,omitempty"`
	Options                *Options         `json:"options,omitempty"`
	OrderAmount            int64            `json:"order_amount"`
	OrderLines             []OrderLine      `json:"order_lines"`
	OrderTaxAmount         int64            `json:"order_tax_amount"`
	PurchaseCountry        string           `json:"purchase_country"`
	PurchaseCurrency       string           `json:"purchase_currency"`
}

// SessionUpdate changes an existing session. Every field is optional: only
// what is set is sent, and Klarna keeps the rest. To change the cart, send
// OrderAmount, OrderTaxAmount and OrderLines together.
type SessionUpdate struct {
	AcquiringChannel       AcquiringChannel `json:"acquiring_channel,omitempty"`
	Attachment             *Attachment      `json:"attachment,omitempty"`
	BillingAddress         *Address         `json:"billing_address,omitempty"`
	ShippingAddress        *Address         `json:"shipping_address,omitempty"`
	Customer               *Customer        `json:"customer,omitempty"`
	CustomPaymentMethodIDs []string         `json:"custom_payment_method_ids,omitempty"`
	Design                 string           `json:"design,omitempty"`
	Intent                 Intent           `json:"intent,omitempty"`
	Locale                 string           `json:"locale,omitempty"`
	MerchantData           string           `json:"merchant_data,omitempty"`
	MerchantReference1     string           `json:"merchant_reference1,omitempty"`
	MerchantReference2     string           `json:"merchant_reference2,omitempty"`
	MerchantURLs           *MerchantURLs    `json:"merchant_urls,omitempty"`
	Options                *Options         `json:"options,omitempty"`
	OrderAmount            *int64           `json:"order_amount,omitempty"`
	OrderLines             []OrderLine      `json:"order_lines,omitempty"`
	OrderTaxAmount         *int64           `json:"order_tax_amount,omitempty"`
	PurchaseCountry        string           `json:"purchase_country,omitempty"`
	PurchaseCurrency       string           `json:"purchase_currency,omitempty"`
}

// MerchantSession is Klarna's answer to CreateSession. Hand ClientToken to
// the browser (Klarna.Payments.init); keep SessionID on the server.
type MerchantSession struct {
	SessionID               string                  `json:"session_id"`
	ClientToken             string                  `json:"client_token"`
	PaymentMethodCategories []PaymentMethodCategory `json:"payment_method_categories,omitempty"`
}

// Session is a payment session as read back from Klarna. Personal data is
// only present once the shopper has authorized.
type Session struct {
	AcquiringChannel        AcquiringChannel        `json:"acquiring_channel,omitempty"`
	Attachment              *Attachment             `json:"attachment,omitempty"`
	AuthorizationToken      string                  `json:"authorization_token,omitempty"`
	BillingAddress          *Address                `json:"billing_address,omitempty"`
	ShippingAddress         *Address                `json:"shipping_address,omitempty"`
	ClientToken             string                  `json:"client_token,omitempty"`
	CustomPaymentMethodIDs  []string                `json:"custom_payment_method_ids,omitempty"`
	Customer                *CustomerRead           `json:"customer,omitempty"`
	Design                  string                  `json:"design,omitempty"`
	ExpiresAt               *time.Time              `json:"expires_at,omitempty"`
	Intent                  Intent                  `json:"intent,omitempty"`
	Locale                  string                  `json:"locale,omitempty"`
	MerchantData            string                  `json:"merchant_data,omitempty"`
	MerchantReference1      string                  `json:"merchant_reference1,omitempty"`
	MerchantReference2      string                  `json:"merchant_reference2,omitempty"`
	MerchantURLs            *MerchantURLs           `json:"merchant_urls,omitempty"`
	Options                 *Options                `json:"options,omitempty"`
	OrderAmount             int64                   `json:"order_amount"`
	OrderLines              []OrderLine             `json:"order_lines,omitempty"`
	OrderTaxAmount          int64                   `json:"order_tax_amount"`
	PaymentMethodCategories []PaymentMethodCategory `json:"payment_method_categories,omitempty"`
	PurchaseCountry         string                  `json:"purchase_country,omitempty"`
	PurchaseCurrency        string                  `json:"purchase_currency,omitempty"`
	Status                  SessionStatus           `json:"status,omitempty"`
}

// OrderRequest places an order with an authorization token. Its cart and
// market must match what the shopper authorized, or Klarna answers 409.
type OrderRequest struct {
	AutoCapture            *bool         `json:"auto_capture,omitempty"`
	BillingAddress         *Address      `json:"billing_address,omitempty"`
	ShippingAddress        *Address      `json:"shipping_address,omitempty"`
	Customer               *Customer     `json:"customer,omitempty"`
	CustomPaymentMethodIDs []string      `json:"custom_payment_method_ids,omitempty"`
	Locale                 string        `json:"locale,omitempty"`
	MerchantData           string        `json:"merchant_data,omitempty"`
	MerchantReference1     string        `json:"merchant_reference1,omitempty"`
	MerchantReference2     string        `json:"merchant_reference2,omitempty"`
	MerchantURLs           *MerchantURLs `json:"merchant_urls,omitempty"`
	OrderAmount            int64         `json:"order_amount"`
	OrderLines             []OrderLine   `json:"order_lines"`
	OrderTaxAmount         int64         `json:"order_tax_amount"`
	PurchaseCountry        string        `json:"purchase_country"`
	PurchaseCurrency       string        `json:"purchase_currency"`
}

// AutoCaptureOf reads auto_capture from an order request as it was sent
// (its JSON, as a shop keeps a copy): whether Klarna was asked to capture
// the order when it created it. A copy that cannot be read says no.
func AutoCaptureOf(orderRequestJSON string) bool {
	var req struct {
		AutoCapture *bool `json:"auto_capture"`
	}
	if orderRequestJSON == "" || json.Unmarshal([]byte(orderRequestJSON), &req) != nil {
		return false
	}
	return req.AutoCapture != nil && *req.AutoCapture
}

// AuthorizedPaymentMethod is what the shopper chose in the widget.
type AuthorizedPaymentMethod struct {
	Type                 PaymentMethodType `json:"type"`
	NumberOfDays         int32             `json:"number_of_days,omitempty"`
	NumberOfInstallments int32             `json:"number_of_installments,omitempty"`
}

// Order is Klarna's answer to CreateOrder. Send the shopper to RedirectURL;
// Klarna then forwards them to the confirmation URL.
type Order struct {
	OrderID                 string                   `json:"order_id"`
	RedirectURL             string                   `json:"redirect_url,omitempty"`
	FraudStatus             FraudStatus              `json:"fraud_status,omitempty"`
	AuthorizedPaymentMethod *AuthorizedPaymentMethod `json:"authorized_payment_method,omitempty"`
}

// CustomerTokenRequest asks Klarna for a customer token that can charge the
// shopper again later (subscriptions).
type CustomerTokenRequest struct {
	Description      string      `json:"description"`
	IntendedUse      IntendedUse `json:"intended_use"`
	Locale           string      `json:"locale"`
	PurchaseCountry  string      `json:"purchase_country"`
	PurchaseCurrency string      `json:"purchase_currency"`
	BillingAddress   *Address    `json:"billing_address,omitempty"`
	Customer         *Customer   `json:"customer,omitempty"`
}

// CustomerTokenCustomer is the little Klarna returns about the token's owner.
type CustomerTokenCustomer struct {
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Gender      string `json:"gender,omitempty"`
}

// CustomerToken is Klarna's answer to GenerateCustomerToken. TokenID is a
// credential: store it encrypted and never log it.
type CustomerToken struct {
	TokenID                string                 `json:"token_id"`
	PaymentMethodReference string                 `json:"payment_method_reference,omitempty"`
	RedirectURL            string                 `json:"redirect_url,omitempty"`
	BillingAddress         *Address               `json:"billing_address,omitempty"`
	Customer               *CustomerTokenCustomer `json:"customer,omitempty"`
}

// OrderStatus is the part of an Order Management order that a merchant
// needs to act on a fraud notification: re-read the decision from Klarna
// instead of trusting the notification's body. GetOrder returns the whole
// order (ManagedOrder).
type OrderStatus struct {
	OrderID          string      `json:"order_id"`
	Status           string      `json:"status,omitempty"`
	FraudStatus      FraudStatus `json:"fraud_status"`
	OrderAmount      int64       `json:"order_amount"`
	PurchaseCurrency string      `json:"purchase_currency,omitempty"`
}

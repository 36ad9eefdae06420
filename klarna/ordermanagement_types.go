package klarna

import "time"

// ManagedOrderStatus is an order's state in Order Management.
type ManagedOrderStatus string

// Order Management states. An order starts AUTHORIZED; captures make it
// PART_CAPTURED, then CAPTURED; it ends CANCELLED, EXPIRED (not captured
// before ExpiresAt) or CLOSED.
const (
	OrderAuthorized   ManagedOrderStatus = "AUTHORIZED"
	OrderPartCaptured ManagedOrderStatus = "PART_CAPTURED"
	OrderCaptured     ManagedOrderStatus = "CAPTURED"
	OrderCancelled    ManagedOrderStatus = "CANCELLED"
	OrderExpired      ManagedOrderStatus = "EXPIRED"
	OrderClosed       ManagedOrderStatus = "CLOSED"
)

// LineReturnFee is an order line that keeps part of a refund as a return
// fee (negative amounts, Order Management refunds only).
const LineReturnFee LineType = "return_fee"

// ShippingMethod is how a capture travels to the customer.
type ShippingMethod string

// Shipping methods Klarna knows.
const (
	ShipPickUpStore     ShippingMethod = "PickUpStore"
	ShipHome            ShippingMethod = "Home"
	ShipBoxReg          ShippingMethod = "BoxReg"
	ShipBoxUnreg        ShippingMethod = "BoxUnreg"
	ShipPickUpPoint     ShippingMethod = "PickUpPoint"
	ShipOwn             ShippingMethod = "Own"
	ShipPostal          ShippingMethod = "Postal"
	ShipDHLPackstation  ShippingMethod = "DHLPackstation"
	ShipDigital         ShippingMethod = "Digital"
	ShipUndefined       ShippingMethod = "Undefined"
	ShipPickUpWarehouse ShippingMethod = "PickUpWarehouse"
	ShipClickCollect    ShippingMethod = "ClickCollect"
	ShipPalletDelivery  ShippingMethod = "PalletDelivery"
)

// ShippingInfo tells Klarna (and through Klarna the customer) how a capture
// was sent. Company names should be specific ("DHL US", not "DHL"); the
// company and tracking number are at most 100 characters, the URIs 1024.
type ShippingInfo struct {
	ShippingCompany       string         `json:"shipping_company,omitempty"`
	ShippingMethod        ShippingMethod `json:"shipping_method,omitempty"`
	TrackingNumber        string         `json:"tracking_number,omitempty"`
	TrackingURI           string         `json:"tracking_uri,omitempty"`
	ReturnShippingCompany string         `json:"return_shipping_company,omitempty"`
	ReturnTrackingNumber  string         `json:"return_tracking_number,omitempty"`
	ReturnTrackingURI     string         `json:"return_tracking_uri,omitempty"`
}

// InitialPaymentMethod is the payment method the order was placed with.
type InitialPaymentMethod struct {
	Type                 string `json:"type,omitempty"`
	Description          string `json:"description,omitempty"`
	NumberOfInstallments int32  `json:"number_of_installments,omitempty"`
}

// ManagedOrder is an order as Order Management reports it. Amounts are
// minor units: RemainingAuthorizedAmount is what can still be captured
// (OrderAmount - CapturedAmount while the order is open, 0 once it is
// cancelled, released or expired).
type ManagedOrder struct {
	OrderID                   string                `json:"order_id"`
	Status                    ManagedOrderStatus    `json:"status"`
	FraudStatus               FraudStatus           `json:"fraud_status"`
	OriginalOrderAmount       int64                 `json:"original_order_amount"`
	OrderAmount               int64                 `json:"order_amount"`
	CapturedAmount            int64                 `json:"captured_amount"`
	RefundedAmount            int64                 `json:"refunded_amount"`
	RemainingAuthorizedAmount int64                 `json:"remaining_authorized_amount"`
	ExpiresAt                 *time.Time            `json:"expires_at,omitempty"`
	CreatedAt                 *time.Time            `json:"created_at,omitempty"`
	PurchaseCountry           string                `json:"purchase_country,omitempty"`
	PurchaseCurrency          string                `json:"purchase_currency,omitempty"`
	Locale                    string                `json:"locale,omitempty"`
	MerchantReference1        string                `json:"merchant_reference1,omitempty"`
	MerchantReference2        string                `json:"merchant_reference2,omitempty"`
	MerchantData              string                `json:"merchant_data,omitempty"`
	KlarnaReference           string                `json:"klarna_reference,omitempty"`
	OrderLines                []OrderLine           `json:"order_lines,omitempty"`
	Captures                  []Capture             `json:"captures,omitempty"`
	Refunds                   []Refund              `json:"refunds,omitempty"`
	InitialPaymentMethod      *InitialPaymentMethod `json:"initial_payment_method,omitempty"`
	ShippingInfo              []ShippingInfo        `json:"shipping_info,omitempty"`
	BillingAddress            *Address              `json:"billing_address,omitempty"`
	ShippingAddress           *Address              `json:"shipping_address,omitempty"`
}

// CaptureRequest captures all or part of an order: CapturedAmount at most
// the order's remaining authorized amount. Send the lines shipped, so the
// customer's invoice lists them.
type CaptureRequest struct {
	CapturedAmount int64          `json:"captured_amount"`
	Description    string         `json:"description,omitempty"`
	Reference      string         `json:"reference,omitempty"`
	OrderLines     []OrderLine    `json:"order_lines,omitempty"`
	ShippingInfo   []ShippingInfo `json:"shipping_info,omitempty"`
	// ShippingDelay (days) above 0 must be enabled on the merchant account.
	ShippingDelay int64 `json:"shipping_delay,omitempty"`
}

// Capture is one capture of an order.
type Capture struct {
	CaptureID       string         `json:"capture_id"`
	KlarnaReference string         `json:"klarna_reference,omitempty"`
	CapturedAmount  int64          `json:"captured_amount"`
	CapturedAt      *time.Time     `json:"captured_at,omitempty"`
	Description     string         `json:"description,omitempty"`
	Reference       string         `json:"reference,omitempty"`
	OrderLines      []OrderLine    `json:"order_lines,omitempty"`
	RefundedAmount  int64          `json:"refunded_amount"`
	BillingAddress  *Address       `json:"billing_address,omitempty"`
	ShippingAddress *Address       `json:"shipping_address,omitempty"`
	ShippingInfo    []ShippingInfo `json:"shipping_info,omitempty"`
}

// CaptureCreated is Klarna's answer to Capture: the new capture's id and
// its URL (the Capture-Id and Location headers of the 201).
type CaptureCreated struct {
	CaptureID string
	Location  string
}

// RefundRequest refunds part or all of what was captured. Send the lines
// refunded: Klarna uses them to take the refund off the right invoice.
type RefundRequest struct {
	RefundedAmount int64       `json:"refunded_amount"`
	Description    string      `json:"description,omitempty"`
	Reference      string      `json:"reference,omitempty"`
	OrderLines     []OrderLine `json:"order_lines,omitempty"`
}

// Refund is one refund of an order.
type Refund struct {
	RefundID       string      `json:"refund_id"`
	RefundedAmount int64       `json:"refunded_amount"`
	RefundedAt     *time.Time  `json:"refunded_at,omitempty"`
	Description    string      `json:"description,omitempty"`
	Reference      string      `json:"reference,omitempty"`
	OrderLines     []OrderLine `json:"order_lines,omitempty"`
	CreditInvoice  bool        `json:"credit_invoice,omitempty"`
}

// RefundCreated is Klarna's answer to Refund: the new refund's id and its
// URL (the Refund-Id and Location headers of the 201).
type RefundCreated struct {
	RefundID string
	Location string
}

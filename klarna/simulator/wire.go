package simulator

// The simulator decodes requests into its own types rather than the client's:
// every field is a pointer or nil-able so that "absent" and "zero" differ,
// which Klarna's validation depends on. Sharing nothing with the client also
// means a bug in the client's types cannot hide in the simulator.

type wireAddress struct {
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

type wireCustomer struct {
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

// readView drops what Klarna never echoes back (identification numbers).
func (c *wireCustomer) readView() *wireCustomer {
	if c == nil {
		return nil
	}
	cp := *c
	cp.LastFourSSN, cp.NationalIdentificationNumber = "", ""
	return &cp
}

type wireIdentifiers struct {
	Brand                  string `json:"brand,omitempty"`
	CategoryPath           string `json:"category_path,omitempty"`
	GlobalTradeItemNumber  string `json:"global_trade_item_number,omitempty"`
	ManufacturerPartNumber string `json:"manufacturer_part_number,omitempty"`
	Color                  string `json:"color,omitempty"`
	Size                   string `json:"size,omitempty"`
}

type wireSubscription struct {
	Name          *string `json:"name,omitempty"`
	Interval      *string `json:"interval,omitempty"`
	IntervalCount *int64  `json:"interval_count,omitempty"`
}

type wireLine struct {
	Type                *string           `json:"type,omitempty"`
	Reference           *string           `json:"reference,omitempty"`
	Name                *string           `json:"name,omitempty"`
	Quantity            *int64            `json:"quantity,omitempty"`
	QuantityUnit        *string           `json:"quantity_unit,omitempty"`
	UnitPrice           *int64            `json:"unit_price,omitempty"`
	TaxRate             *int64            `json:"tax_rate,omitempty"`
	TotalAmount         *int64            `json:"total_amount,omitempty"`
	TotalDiscountAmount *int64            `json:"total_discount_amount,omitempty"`
	TotalTaxAmount      *int64            `json:"total_tax_amount,omitempty"`
	MerchantData        *string           `json:"merchant_data,omitempty"`
	ProductURL          *string           `json:"product_url,omitempty"`
	ImageURL            *string           `json:"image_url,omitempty"`
	ProductIdentifiers  *wireIdentifiers  `json:"product_identifiers,omitempty"`
	Subscription        *wireSubscription `json:"subscription,omitempty"`
}

type wireURLs struct {
	Confirmation  string `json:"confirmation,omitempty"`
	Notification  string `json:"notification,omitempty"`
	Push          string `json:"push,omitempty"`
	Authorization string `json:"authorization,omitempty"`
}

type wireOptions struct {
	ColorBorder         string `json:"color_border,omitempty"`
	ColorBorderSelected string `json:"color_border_selected,omitempty"`
	ColorDetails        string `json:"color_details,omitempty"`
	ColorText           string `json:"color_text,omitempty"`
	RadiusBorder        string `json:"radius_border,omitempty"`
}

type wireAttachment struct {
	ContentType *string `json:"content_type,omitempty"`
	Body        *string `json:"body,omitempty"`
}

// wireSession is a session's merchant-supplied data: the body of create and
// update session, and (with AutoCapture) of create order.
type wireSession struct {
	AcquiringChannel       *string         `json:"acquiring_channel,omitempty"`
	Attachment             *wireAttachment `json:"attachment,omitempty"`
	BillingAddress         *wireAddress    `json:"billing_address,omitempty"`
	ShippingAddress        *wireAddress    `json:"shipping_address,omitempty"`
	Customer               *wireCustomer   `json:"customer,omitempty"`
	CustomPaymentMethodIDs []string        `json:"custom_payment_method_ids,omitempty"`
	Design                 *string         `json:"design,omitempty"`
	Intent                 *string         `json:"intent,omitempty"`
	Locale                 *string         `json:"locale,omitempty"`
	MerchantData           *string         `json:"merchant_data,omitempty"`
	MerchantReference1     *string         `json:"merchant_reference1,omitempty"`
	MerchantReference2     *string         `json:"merchant_reference2,omitempty"`
	MerchantURLs           *wireURLs       `json:"merchant_urls,omitempty"`
	Options                *wireOptions    `json:"options,omitempty"`
	OrderAmount            *int64          `json:"order_amount,omitempty"`
	OrderLines             []wireLine      `json:"order_lines,omitempty"`
	OrderTaxAmount         *int64          `json:"order_tax_amount,omitempty"`
	PurchaseCountry        *string         `json:"purchase_country,omitempty"`
	PurchaseCurrency       *string         `json:"purchase_currency,omitempty"`
}

type wireOrderRequest struct {
	wireSession
	AutoCapture *bool `json:"auto_capture,omitempty"`
}

type wireTokenRequest struct {
	Description      *string       `json:"description,omitempty"`
	IntendedUse      *string       `json:"intended_use,omitempty"`
	Locale           *string       `json:"locale,omitempty"`
	PurchaseCountry  *string       `json:"purchase_country,omitempty"`
	PurchaseCurrency *string       `json:"purchase_currency,omitempty"`
	BillingAddress   *wireAddress  `json:"billing_address,omitempty"`
	Customer         *wireCustomer `json:"customer,omitempty"`
}

// merge applies a partial update: every field the update sets replaces the
// session's, as Klarna's update session does.
func (s *wireSession) merge(u *wireSession) {
	set := func(dst **string, src *string) {
		if src != nil {
			*dst = src
		}
	}
	set(&s.AcquiringChannel, u.AcquiringChannel)
	set(&s.Design, u.Design)
	set(&s.Intent, u.Intent)
	set(&s.Locale, u.Locale)
	set(&s.MerchantData, u.MerchantData)
	set(&s.MerchantReference1, u.MerchantReference1)
	set(&s.MerchantReference2, u.MerchantReference2)
	set(&s.PurchaseCountry, u.PurchaseCountry)
	set(&s.PurchaseCurrency, u.PurchaseCurrency)
	if u.Attachment != nil {
		s.Attachment = u.Attachment
	}
	if u.BillingAddress != nil {
		s.BillingAddress = u.BillingAddress
	}
	if u.ShippingAddress != nil {
		s.ShippingAddress = u.ShippingAddress
	}
	if u.Customer != nil {
		s.Customer = u.Customer
	}
	if u.CustomPaymentMethodIDs != nil {
		s.CustomPaymentMethodIDs = u.CustomPaymentMethodIDs
	}
	if u.MerchantURLs != nil {
		s.MerchantURLs = u.MerchantURLs
	}
	if u.Options != nil {
		s.Options = u.Options
	}
	if u.OrderAmount != nil {
		s.OrderAmount = u.OrderAmount
	}
	if u.OrderTaxAmount != nil {
		s.OrderTaxAmount = u.OrderTaxAmount
	}
	if u.OrderLines != nil {
		s.OrderLines = u.OrderLines
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

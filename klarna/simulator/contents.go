package simulator

import "strings"

// OrderContent is an order as the simulator holds it, for reconciling a
// merchant's records with Klarna's: amounts, tax and every line.
type OrderContent struct {
	ID          string             `json:"order_id"`
	Reference   string             `json:"merchant_reference1"`
	Currency    string             `json:"purchase_currency"`
	Amount      int64              `json:"order_amount"`
	TaxAmount   int64              `json:"order_tax_amount"`
	FraudStatus string             `json:"fraud_status"`
	Lines       []OrderLineContent `json:"order_lines"`
}

// OrderLineContent is one order line.
type OrderLineContent struct {
	Type           string `json:"type"`
	Reference      string `json:"reference"`
	Name           string `json:"name"`
	Quantity       int64  `json:"quantity"`
	UnitPrice      int64  `json:"unit_price"`
	TaxRate        int64  `json:"tax_rate"`
	TotalAmount    int64  `json:"total_amount"`
	TotalDiscount  int64  `json:"total_discount_amount"`
	TotalTaxAmount int64  `json:"total_tax_amount"`
}

// OrderContents returns every order the simulator holds.
func (s *Simulator) OrderContents() []OrderContent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]OrderContent, 0, len(s.orders))
	for _, o := range s.orders {
		r := o.Request
		oc := OrderContent{ID: o.ID, Reference: o.Reference1, Currency: strings.ToUpper(str(r.PurchaseCurrency)),
			Amount: num(r.OrderAmount), TaxAmount: num(r.OrderTaxAmount), FraudStatus: o.FraudStatus}
		for _, l := range r.OrderLines {
			oc.Lines = append(oc.Lines, OrderLineContent{Type: str(l.Type), Reference: str(l.Reference), Name: str(l.Name), Quantity: num(l.Quantity),
				UnitPrice: num(l.UnitPrice), TaxRate: num(l.TaxRate), TotalAmount: num(l.TotalAmount), TotalDiscount: num(l.TotalDiscountAmount),
				TotalTaxAmount: num(l.TotalTaxAmount)})
		}
		out = append(out, oc)
	}
	return out
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"storefront/shop"
	"storefront/views"
)

func (h *Handler) taxNote(m shop.Market) string {
	if m.Regime == shop.TaxAdded {
		return "Prices exclude sales tax, which is added at checkout."
	}
	return fmt.Sprintf("Prices include %s.", m.TaxName)
}

// catalog lists the products, optionally of one category.
func (h *Handler) catalogPage(c echo.Context) error {
	s := shopperOf(c)
	cat := c.QueryParam("category")
	if cat != "" && !slices.Contains(h.catalog.Categories(), cat) {
		return echo.NewHTTPError(http.StatusNotFound, "We have no category called that.")
	}
	grid, err := h.grid(c.Request().Context(), s, cat)
	if err != nil {
		return err
	}
	return renderPublic(c, s, views.CatalogView(views.CatalogPage{
		Base: h.base(c, s, "Shop"), Categories: h.catalog.Categories(), Category: cat, Grid: grid, TaxNote: h.taxNote(s.Market),
	}))
}

type gridKey struct{ market, locale, category string }

// grid renders the product list for a market, locale and category once and
// keeps it: it is the same for every shopper, and the costliest part of the
// catalog page. The catalog does not change while the shop runs.
func (h *Handler) grid(ctx context.Context, s *shopper, cat string) (string, error) {
	key := gridKey{s.Market.Code, s.Locale, cat}
	if g, ok := h.grids.Load(key); ok {
		return g.(string), nil
	}
	var cards []views.ProductCard
	for _, pr := range h.catalog.Products(cat) {
		price, _ := pr.Price(s.Market.Currency)
		cards = append(cards, views.ProductCard{ID: pr.ID, Name: pr.Name, Summary: pr.Summary, Price: h.money(price, s), Art: pr.Art, Category: pr.Category})
	}
	b, err := views.Render(ctx, views.ProductGrid(cards))
	if err != nil {
		return "", err
	}
	h.grids.Store(key, string(b))
	return string(b), nil
}

func (h *Handler) product(c echo.Context) error {
	s := shopperOf(c)
	pr, ok := h.catalog.Product(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "We could not find that product. It may have sold out for good.")
	}
	price, _ := pr.Price(s.Market.Currency)
	b := h.base(c, s, pr.Name)
	b.Description = pr.Summary
	page := views.ProductPage{
		Base: b, ID: pr.ID, Name: pr.Name, Category: pr.Category, Description: pr.Description,
		Price: h.money(price, s), Art: pr.Art, TaxNote: h.taxNote(s.Market), MaxQuantity: shop.MaxQuantity,
	}
	if pr.Plan != nil {
		page.Plan = pr.Plan.Describe()
	}
	return renderPublic(c, s, views.ProductView(page))
}

// quantity parses a quantity field; a shopper's typo is a 400 with a
// message, not a 500.
func quantity(c echo.Context) (int, error) {
	v := strings.TrimSpace(c.FormValue("quantity"))
	if v == "" {
		return 1, nil
	}
	q, err := strconv.Atoi(v)
	if err != nil || q < 1 || q > shop.MaxQuantity {
		return 0, shop.ErrQuantity
	}
	return q, nil
}

// cartError renders the cart with a message the shopper can act on.
func (h *Handler) cartError(c echo.Context, err error) error {
	return h.renderCart(c, http.StatusBadRequest, []string{capitalize(err.Error()) + "."})
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (h *Handler) addToCart(c echo.Context) error {
	s := shopperOf(c)
	q, err := quantity(c)
	if err != nil {
		return h.cartError(c, err)
	}
	id := c.FormValue("product")
	if err := s.Cart.Add(h.catalog, id, q); err != nil {
		return h.cartError(c, err)
	}
	s.dirty = true
	pr, _ := h.catalog.Product(id)
	s.setFlash(fmt.Sprintf("Added %d × %s to your cart.", q, pr.Name))
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (h *Handler) updateCart(c echo.Context) error {
	s := shopperOf(c)
	q, err := quantity(c)
	if err != nil {
		return h.cartError(c, err)
	}
	if err := s.Cart.Set(c.FormValue("product"), q); err != nil {
		return h.cartError(c, err)
	}
	s.dirty = true
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (h *Handler) removeFromCart(c echo.Context) error {
	s := shopperOf(c)
	if err := s.Cart.Set(c.FormValue("product"), 0); err != nil {
		return h.cartError(c, err)
	}
	s.dirty = true
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (h *Handler) applyDiscount(c echo.Context) error {
	s := shopperOf(c)
	code := c.FormValue("code")
	d, ok := shop.LookupDiscount(code)
	if !ok {
		return h.cartError(c, errors.New("that discount code is not valid; check the spelling"))
	}
	s.Cart.Discount, s.dirty = d.Code, true
	s.setFlash(d.Label + " applied.")
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (h *Handler) removeDiscount(c echo.Context) error {
	s := shopperOf(c)
	s.Cart.Discount, s.dirty = "", true
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (h *Handler) cart(c echo.Context) error { return h.renderCart(c, http.StatusOK, nil) }

func (h *Handler) renderCart(c echo.Context, status int, errs []string) error {
	s := shopperOf(c)
	priced, err := shop.Price(s.Cart, s.Market, s.Locale, h.catalog)
	if err != nil {
		return err
	}
	return render(c, status, views.CartView(views.CartPage{
		Base: h.base(c, s, "Cart"), Lines: h.lines(priced, s), Summary: h.summary(priced, s),
		DiscountCode: s.Cart.Discount, Errors: errs, MaxQuantity: shop.MaxQuantity,
	}))
}

func (h *Handler) lines(p *shop.Priced, s *shopper) []views.CartLine {
	var out []views.CartLine
	for _, l := range p.Lines {
		cl := views.CartLine{ID: l.Product.ID, Name: l.Product.Name, Art: l.Product.Art, Quantity: int(l.Quantity),
			Unit: h.money(l.UnitPrice, s), Total: h.money(l.Total, s)}
		if l.Discount > 0 {
			cl.Discount = h.money(l.Discount, s)
		}
		if l.Product.Plan != nil {
			cl.Plan = l.Product.Plan.Describe()
		}
		out = append(out, cl)
	}
	return out
}

func (h *Handler) summary(p *shop.Priced, s *shopper) views.Summary {
	m := p.Market
	sum := views.Summary{
		Merchandise: h.money(p.Merchandise, s), Shipping: h.money(p.Shipping, s), FreeShipping: p.FreeShipping || len(p.Lines) == 0,
		Tax: h.money(p.Tax, s), Total: h.money(p.Total, s), TaxIncluded: m.Regime == shop.TaxIncluded,
	}
	if p.DiscountCode != nil {
		sum.Discount, sum.DiscountLabel = h.money(p.Discount, s), p.DiscountCode.Label
	}
	if sum.TaxIncluded {
		sum.TaxLabel = "Includes " + m.TaxName
	} else {
		sum.TaxLabel = fmt.Sprintf("%s (%d.%02d%%)", m.TaxName, m.SalesTax/100, m.SalesTax%100)
	}
	if left := m.FreeAbove - (p.Merchandise - p.Discount); !p.FreeShipping && len(p.Lines) > 0 && left > 0 {
		sum.ShippingHint = "Add " + h.money(left, s) + " more for free shipping."
	}
	return sum
}

// setMarket switches country and currency. The cart is repriced on the next
// page; the next checkout gets a new Klarna session for the new market.
func (h *Handler) setMarket(c echo.Context) error {
	s := shopperOf(c)
	m, ok := h.markets.lookup(c.FormValue("market"))
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "We do not sell in that country yet.")
	}
	if m.Code != s.Market.Code {
		s.Market, s.Locale, s.dirty = m, m.Locale(), true
		s.setFlash("Prices are now shown for " + m.Name + " in " + m.Currency + ".")
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("return")))
}

// localPath keeps a redirect target on this site. It reads the target as
// a browser would (which drops tabs and newlines anywhere and control
// characters and spaces at the ends, so "/\t/evil.example" is
// "//evil.example") and accepts only a path with a single leading slash
// and no spaces, control characters or backslashes; anything else is "/".
func localPath(p string) string {
	p = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, p)
	p = strings.TrimFunc(p, func(r rune) bool { return r <= ' ' })
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return p
}

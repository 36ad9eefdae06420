package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/views"
)

func (h *Handler) taxNote(s *shopper) string {
	if s.Market.Regime == shop.TaxAdded {
		return s.loc.T("tax.excluded")
	}
	return s.loc.T("tax.included", "Tax", h.taxName(s))
}

// taxName is the market's tax in the page's language: "VAT", "moms".
func (h *Handler) taxName(s *shopper) string { return s.loc.T("tax.name." + s.Market.Code) }

// categories are the catalog's categories, named in the page's language.
// They are made once per locale and shared (read-only).
func (h *Handler) categories(s *shopper) []views.Category {
	if v, ok := h.categoryLists.Load(s.loc.Locale()); ok {
		return v.([]views.Category)
	}
	var out []views.Category
	for _, c := range h.catalog.Categories() {
		out = append(out, views.Category{Key: c, Name: s.loc.T("category." + c)})
	}
	h.categoryLists.Store(s.loc.Locale(), out)
	return out
}

// catalog lists the products, optionally of one category.
func (h *Handler) catalogPage(c echo.Context) error {
	s := shopperOf(c)
	cat := c.QueryParam("category")
	if cat != "" && !slices.Contains(h.catalog.Categories(), cat) {
		return echo.NewHTTPError(http.StatusNotFound, "error.category_not_found")
	}
	variant := ""
	if cat != "" {
		variant = "category=" + cat
	}
	return h.renderPublic(c, s, variant, func() (templ.Component, error) {
		grid, err := h.grid(c.Request().Context(), s, cat)
		if err != nil {
			return nil, err
		}
		return views.CatalogView(views.CatalogPage{
			Base: h.base(c, s, s.loc.T("title.shop")), Categories: h.categories(s), Category: cat, Grid: grid, TaxNote: h.taxNote(s),
		}), nil
	})
}

type gridKey struct{ market, locale, category string }

// grid is the catalog's product list for a market, locale and category. It
// is the same for every shopper and the costliest part of the catalog page
// (eleven cards, their prices formatted), so it is rendered once and the
// component then writes the kept HTML. The catalog does not change while
// the shop runs.
func (h *Handler) grid(ctx context.Context, s *shopper, cat string) (templ.Component, error) {
	key := gridKey{s.Market.Code, s.Locale, cat}
	if v, ok := h.grids.Load(key); ok {
		return v.(templ.Component), nil
	}
	var cards []views.ProductCard
	for _, pr := range h.catalog.Products(cat) {
		price, _ := pr.Price(s.Market.Currency)
		pr = pr.In(s.Locale)
		cards = append(cards, views.ProductCard{ID: pr.ID, Name: pr.Name, Summary: pr.Summary, Price: h.money(price, s), Art: pr.Art, Category: pr.Category})
	}
	html, err := views.Render(ctx, views.ProductGrid(cards))
	if err != nil {
		return nil, err
	}
	c := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(html)
		return err
	})
	h.grids.Store(key, c)
	return c, nil
}

func (h *Handler) product(c echo.Context) error {
	s := shopperOf(c)
	pr, ok := h.catalog.Product(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "error.product_not_found")
	}
	// The product page reads nothing of the query string.
	return h.renderPublic(c, s, "", func() (templ.Component, error) {
		price, _ := pr.Price(s.Market.Currency)
		pr = pr.In(s.Locale)
		b := h.base(c, s, pr.Name)
		b.Description = pr.Summary
		b.Messaging = h.messaging()
		page := views.ProductPage{
			Base: b, ID: pr.ID, Name: pr.Name, Category: pr.Category, CategoryName: s.loc.T("category." + pr.Category), Description: pr.Description,
			Price: h.money(price, s), Art: pr.Art, TaxNote: h.taxNote(s), MaxQuantity: shop.MaxQuantity,
			Placement: h.placement(s, price, price),
		}
		if pr.Plan != nil {
			page.Plan = h.rhythm(s, *pr.Plan)
		}
		return views.ProductView(page), nil
	})
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
	s := shopperOf(c)
	var msg string
	switch {
	case errors.Is(err, shop.ErrQuantity):
		msg = s.loc.T("cart.error_quantity", "Max", shop.MaxQuantity)
	case errors.Is(err, shop.ErrTooManyLines):
		msg = s.loc.T("cart.error_too_many", "Count", shop.MaxLines)
	case errors.Is(err, errBadDiscount):
		msg = s.loc.T("cart.error_discount")
	default:
		msg = s.loc.T("cart.error_unknown_product")
	}
	return h.renderCart(c, http.StatusBadRequest, []string{msg})
}

var errBadDiscount = errors.New("that discount code is not valid")

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
	s.setFlash(s.loc.T("flash.added", "Count", q, "Name", pr.In(s.Locale).Name))
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
		return h.cartError(c, errBadDiscount)
	}
	s.Cart.Discount, s.dirty = d.Code, true
	s.setFlash(s.loc.T("flash.discount", "Label", d.LabelIn(s.Locale)))
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
	b := h.base(c, s, s.loc.T("title.cart"))
	p := views.CartPage{
		Base: b, Lines: h.lines(priced, s), Summary: h.summary(priced, s),
		DiscountCode: s.Cart.Discount, Errors: errs, MaxQuantity: shop.MaxQuantity,
	}
	if len(priced.Lines) > 0 {
		p.Placement = h.placement(s, priced.Total, 0)
		if p.Placement != nil {
			p.Base.Messaging = h.messaging()
		}
	}
	return h.renderInKeptLayout(c, s, status, p.Base, views.CartMain(p), views.CartView(p))
}

func (h *Handler) lines(p *shop.Priced, s *shopper) []views.CartLine {
	var out []views.CartLine
	for _, l := range p.Lines {
		cl := views.CartLine{ID: l.Product.ID, Name: l.Product.In(s.loc.Lang()).Name, Art: l.Product.Art, Quantity: int(l.Quantity),
			Unit: h.money(l.UnitPrice, s), Total: h.money(l.Total, s)}
		if l.Discount > 0 {
			cl.Discount = h.money(l.Discount, s)
		}
		if l.Product.Plan != nil {
			cl.Plan = h.rhythm(s, *l.Product.Plan)
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
		sum.Discount, sum.DiscountLabel = h.money(p.Discount, s), p.DiscountCode.LabelIn(s.loc.Lang())
	}
	if sum.TaxIncluded {
		sum.TaxLabel = s.loc.T("summary.includes_tax", "Tax", s.loc.T("tax.name."+m.Code))
	} else {
		sum.TaxLabel = s.loc.T("summary.sales_tax", "Tax", s.loc.T("tax.name."+m.Code), "Rate", s.loc.Fixed(m.SalesTax, 2))
	}
	if left := m.FreeAbove - (p.Merchandise - p.Discount); !p.FreeShipping && len(p.Lines) > 0 && left > 0 {
		sum.ShippingHint = s.loc.T("summary.free_shipping_hint", "Amount", h.money(left, s))
	}
	return sum
}

// setMarket switches country and currency. The cart is repriced on the next
// page; the next checkout gets a new Klarna session for the new market.
func (h *Handler) setMarket(c echo.Context) error {
	s := shopperOf(c)
	m, ok := h.markets.lookup(c.FormValue("market"))
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "error.market_unknown")
	}
	if !s.MarketChosen {
		// Chosen now, even if it is the one shown: no more suggestions.
		s.MarketChosen, s.dirty = true, true
	}
	if m.Code != s.Market.Code {
		// The chosen language stays where the new market speaks it;
		// otherwise the page follows the market.
		s.Market, s.Locale, s.dirty = m, localeFor(m, s.Lang), true
		s.loc = h.i18n.For(s.Locale)
		s.setFlash(s.loc.T("flash.market", "Country", s.loc.T("market."+m.Code), "Currency", m.Currency))
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

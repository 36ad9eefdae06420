package shop

import "strings"

// Text is a product's words in one language.
type Text struct {
	Name, Summary, Description string
	// Plan names a subscription's plan, when the product is one.
	Plan string
}

// In returns the product as shown in a language ("sv", or a locale such
// as "sv-SE"): its name, summary and description in that language where
// the catalog has them, else as written (English).
func (p Product) In(lang string) Product {
	lang, _, _ = strings.Cut(lang, "-")
	t, ok := p.Texts[lang]
	if !ok {
		return p
	}
	p.Name, p.Summary, p.Description = t.Name, t.Summary, t.Description
	return p
}

// PlanName is the name of a subscription's plan in a language; plan is
// the name as written in the catalog, which is what orders store.
func (c *Catalog) PlanName(plan, lang string) string {
	lang, _, _ = strings.Cut(lang, "-")
	for _, p := range c.order {
		if p.Plan != nil && p.Plan.Name == plan {
			if t, ok := p.Texts[lang]; ok && t.Plan != "" {
				return t.Plan
			}
		}
	}
	return plan
}

// LabelIn is the discount's label in a language.
func (d Discount) LabelIn(lang string) string {
	lang, _, _ = strings.Cut(lang, "-")
	if l, ok := d.Labels[lang]; ok {
		return l
	}
	return d.Label
}

// lineNames name the lines Klarna shows beside the products, by language.
var lineNames = map[string]map[string]string{
	"shipping":  {"en": "Shipping", "sv": "Frakt", "de": "Versand", "nl": "Verzending"},
	"sales_tax": {"en": "Sales Tax"},
}

// lineName is a line's name in a locale's language, English if missing.
func lineName(key, locale string) string {
	lang, _, _ := strings.Cut(locale, "-")
	if n, ok := lineNames[key][lang]; ok {
		return n
	}
	return lineNames[key]["en"]
}

// discountLabels are the discount codes' labels beyond English.
var discountLabels = map[string]map[string]string{
	"FIKA10":  {"sv": "10 % rabatt på allt", "de": "10 % Rabatt auf alles", "nl": "10% korting op alles"},
	"WELCOME": {"sv": "15 % välkomstrabatt", "de": "15 % Willkommensrabatt", "nl": "15% welkomstkorting"},
}

// translated gives each product its texts in the other languages.
func translated(products []Product) []Product {
	for i := range products {
		products[i].Texts = productTexts[products[i].ID]
	}
	return products
}

// productTexts are the catalog's products in Swedish, German and Dutch;
// English is in DefaultCatalog.
var productTexts = map[string]map[string]Text{
	"stoneware-mug": {
		"sv": {Name: "Stengodsmugg", Summary: "Handglaserad, 350 ml, håller värmen.",
			Description: "Dreid i små serier och handglaserad i en prickig havrefärg. Tjocka väggar håller kaffet varmt, och det breda handtaget rymmer två fingrar. Tål diskmaskin."},
		"de": {Name: "Steinzeugbecher", Summary: "Handglasiert, 350 ml, hält warm.",
			Description: "In kleinen Serien gedreht und von Hand in einem gesprenkelten Haferton glasiert. Die dicken Wände halten deinen Kaffee warm, der breite Henkel passt für zwei Finger. Spülmaschinenfest."},
		"nl": {Name: "Stenen mok", Summary: "Met de hand geglazuurd, 350 ml, houdt warm.",
			Description: "In kleine series gedraaid en met de hand geglazuurd in een gespikkelde havertint. Dikke wanden houden je koffie warm; het brede oor past voor twee vingers. Vaatwasserbestendig."},
	},
	"coffee-subscription": {
		"sv": {Name: "Månadens kaffe", Summary: "Husets blandning hem till dig, varje månad.", Plan: "Fika & Form månadskaffe",
			Description: "En färsk påse på 250 g av vår husblandning, rostad på tisdagen och skickad på onsdagen, varje månad. Betalas med Klarna varje gång; pausa eller avsluta när du vill."},
		"de": {Name: "Monatliche Kaffeelieferung", Summary: "Hausmischung frei Haus, jeden Monat.", Plan: "Fika & Form Kaffee im Monatsabo",
			Description: "Jeden Monat eine frische 250-g-Tüte unserer Hausmischung, dienstags geröstet und mittwochs verschickt. Jedes Mal mit Klarna bezahlt; pausiere oder kündige, wann du willst."},
		"nl": {Name: "Maandelijkse koffielevering", Summary: "Huismelange aan de deur, elke maand.", Plan: "Fika & Form maandkoffie",
			Description: "Elke maand een verse zak van 250 g van onze huismelange, op dinsdag gebrand en op woensdag verstuurd. Elke keer betaald met Klarna; pauzeer of stop wanneer je wilt."},
	},
	"pour-over-kettle": {
		"sv": {Name: "Pour over-kanna", Summary: "Svanhalspip för en jämn stråle.",
			Description: "En vattenkokare i rostfritt stål på 0,9 liter med smal svanhalspip, så att vattnet hamnar precis där du siktar. Fungerar på gas-, el- och induktionshäll."},
		"de": {Name: "Pour-over-Kessel", Summary: "Schwanenhals für einen ruhigen Guss.",
			Description: "Ein Wasserkessel aus Edelstahl mit 0,9 Litern und schlankem Schwanenhals, damit das Wasser genau dort landet, wo du hinzielst. Für Gas-, Elektro- und Induktionsherde."},
		"nl": {Name: "Pour-over-ketel", Summary: "Zwanenhalstuit voor een gelijkmatige straal.",
			Description: "Een roestvrijstalen ketel van 0,9 liter met een slanke zwanenhalstuit, zodat het water precies landt waar je mikt. Geschikt voor gas, elektrisch en inductie."},
	},
	"ceramic-dripper": {
		"sv": {Name: "Droppbryggare i keramik", Summary: "Spiralräfflor, för en kopp.",
			Description: "En kon i porslin med spiralformade räfflor som låter kaffet andas och rinna jämnt. Passar filter i standardstorlek 02 och står stadigt på de flesta muggar."},
		"de": {Name: "Keramik-Handfilter", Summary: "Spiralrippen, für eine Tasse.",
			Description: "Ein Porzellankegel mit spiralförmigen Rippen, die den Kaffee atmen und gleichmäßig durchlaufen lassen. Passt für Filter der Standardgröße 02 und auf die meisten Becher."},
		"nl": {Name: "Keramische dripper", Summary: "Spiraalribbels, voor één kop.",
			Description: "Een porseleinen kegel met spiraalribbels die de koffie laten ademen en gelijkmatig laten doorlopen. Past op standaardfilters maat 02 en op de meeste mokken."},
	},
	"house-blend": {
		"sv": {Name: "Husets bönor, 250 g", Summary: "Choklad, hasselnöt, en aning körsbär.",
			Description: "Vår vardagsblandning för espresso och bryggkaffe: tvättade bönor från Colombia och naturellt behandlade från Brasilien, mellanrostade varje tisdag. Hela bönor."},
		"de": {Name: "Hausmischung, Bohnen, 250 g", Summary: "Schokolade, Haselnuss, ein Hauch Kirsche.",
			Description: "Unsere Mischung für jeden Tag, für Espresso und Filter: gewaschene Bohnen aus Kolumbien und natürlich aufbereitete aus Brasilien, jeden Dienstag mittel geröstet. Ganze Bohnen."},
		"nl": {Name: "Huismelange bonen, 250 g", Summary: "Chocolade, hazelnoot, een vleugje kers.",
			Description: "Onze melange voor elke dag, voor espresso en filter: gewassen bonen uit Colombia en natuurlijk verwerkte uit Brazilië, elke dinsdag medium gebrand. Hele bonen."},
	},
	"oak-board": {
		"sv": {Name: "Serveringsbricka i ek", Summary: "Massiv ek, oljad, 40 cm.",
			Description: "Skuren ur ett stycke europeisk ek och behandlad med livsmedelsgodkänd olja. Stor nog för ett bröd och en bricka ost."},
		"de": {Name: "Servierbrett aus Eiche", Summary: "Massive Eiche, geölt, 40 cm.",
			Description: "Aus einem Stück europäischer Eiche geschnitten und mit lebensmittelechtem Öl behandelt. Groß genug für ein Brot und eine Käseplatte."},
		"nl": {Name: "Eikenhouten serveerplank", Summary: "Massief eiken, geolied, 40 cm.",
			Description: "Uit één stuk Europees eiken gezaagd en afgewerkt met voedselveilige olie. Groot genoeg voor een brood en een kaasplank."},
	},
	"linen-notebook": {
		"sv": {Name: "Anteckningsbok i linne", Summary: "A5, 160 prickade sidor.",
			Description: "Bunden i tvättat linne, med 160 sidor prickat papper på 100 g/m² som tar reservoarpennans bläck utan att blöda. Ligger platt."},
		"de": {Name: "Notizbuch aus Leinen", Summary: "A5, 160 gepunktete Seiten.",
			Description: "In gewaschenes Leinen gebunden, mit 160 Seiten gepunktetem Papier zu 100 g/m², das Füllertinte ohne Durchschlagen aufnimmt. Liegt flach."},
		"nl": {Name: "Linnen notitieboek", Summary: "A5, 160 gestippelde pagina's.",
			Description: "Gebonden in gewassen linnen, met 160 pagina's gestippeld papier van 100 g/m² dat vulpeninkt opneemt zonder door te lopen. Blijft plat open liggen."},
	},
	"brass-pen": {
		"sv": {Name: "Mässingspenna", Summary: "Massiv mässing som åldras vackert.",
			Description: "Svarvad ur en enda mässingsstång; tar vanliga G2-refiller. Den mörknar och får patina ju mer du använder den."},
		"de": {Name: "Messingstift", Summary: "Massives Messing, altert wunderschön.",
			Description: "Aus einem einzigen Messingstab gedreht; passt für gängige G2-Minen. Je mehr du ihn benutzt, desto dunkler wird er und setzt Patina an."},
		"nl": {Name: "Messing pen", Summary: "Massief messing, veroudert prachtig.",
			Description: "Gedraaid uit één messing staaf; past op standaard G2-vullingen. Hoe vaker je hem gebruikt, hoe donkerder hij wordt en hoe meer patina hij krijgt."},
	},
	"coffee-book": {
		"sv": {Name: "The Slow Coffee Book", Summary: "Recept och ritualer, inbunden.",
			Description: "Fyrtio recept från Stockholm, Melbourne och Brooklyn, med anteckningar om malning, vatten och tålamod. 208 sidor, inbunden. På engelska."},
		"de": {Name: "The Slow Coffee Book", Summary: "Rezepte und Rituale, gebunden.",
			Description: "Vierzig Rezepte aus Stockholm, Melbourne und Brooklyn, mit Notizen zu Mahlgrad, Wasser und Geduld. 208 Seiten, gebunden. Auf Englisch."},
		"nl": {Name: "The Slow Coffee Book", Summary: "Recepten en rituelen, gebonden.",
			Description: "Veertig recepten uit Stockholm, Melbourne en Brooklyn, met aantekeningen over maling, water en geduld. 208 pagina's, gebonden. In het Engels."},
	},
	"coffee-ebook": {
		"sv": {Name: "The Slow Coffee Book, e-bok", Summary: "Samma fyrtio recept, som EPUB och PDF.",
			Description: "Hela The Slow Coffee Book för läsplatta, surfplatta eller mobil: fyrtio recept och anteckningarna om malning, vatten och tålamod, med bilderna. En nedladdningslänk kommer med e-post så snart du har betalat; inget skickas med posten."},
		"de": {Name: "The Slow Coffee Book, E-Book", Summary: "Dieselben vierzig Rezepte, als EPUB und PDF.",
			Description: "Das ganze Slow Coffee Book für E-Reader, Tablet oder Handy: vierzig Rezepte und die Notizen zu Mahlgrad, Wasser und Geduld, mit den Fotos. Der Download-Link kommt per E-Mail, sobald du bezahlt hast; verschickt wird nichts."},
		"nl": {Name: "The Slow Coffee Book, e-book", Summary: "Dezelfde veertig recepten, als EPUB en pdf.",
			Description: "Het hele Slow Coffee Book voor je e-reader, tablet of telefoon: veertig recepten en de aantekeningen over maling, water en geduld, met de foto's. Een downloadlink komt per e-mail zodra je hebt betaald; er wordt niets verstuurd."},
	},
	"wool-throw": {
		"sv": {Name: "Ullpläd", Summary: "Lammull, 130 × 180 cm.",
			Description: "Vävd i lammull i ett mjukt fiskbensmönster, med fransar i kortsidorna. Varm nog för vinterkvällar, lätt nog för sommarkvällar."},
		"de": {Name: "Wolldecke", Summary: "Lammwolle, 130 × 180 cm.",
			Description: "Aus Lammwolle in weichem Fischgrätmuster gewebt, mit Fransen an den Enden. Warm genug für Winterabende, leicht genug für Sommerabende."},
		"nl": {Name: "Wollen plaid", Summary: "Lamswol, 130 × 180 cm.",
			Description: "Geweven van lamswol in een zacht visgraatpatroon, met franjes aan de uiteinden. Warm genoeg voor winteravonden, licht genoeg voor zomeravonden."},
	},
}

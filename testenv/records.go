package testenv

import (
	"strconv"
	"time"
)

// Gen generates realistic, deterministic test records: the same seed gives
// the same sequence of records on every machine. Benchmarks, the demo and
// processor tests share it so their figures describe the same payloads.
//
// A Gen is not safe for concurrent use; give each goroutine its own.
type Gen struct {
	s   uint64
	buf []byte
	n   uint64
}

// NewGen returns a generator seeded with seed.
func NewGen(seed uint64) *Gen { return &Gen{s: seed ^ 0x9e3779b97f4a7c15} }

// next is splitmix64: tiny, fast and good enough for test data.
func (g *Gen) next() uint64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (g *Gen) intn(n int) int { return int(g.next() % uint64(n)) }

func (g *Gen) pick(list []string) string { return list[g.intn(len(list))] }

var (
	firstNames = []string{"Olivia", "Liam", "Amelia", "Noah", "Isla", "Oliver", "Charlotte", "Jack", "Mia", "William",
		"Ava", "Leo", "Harper", "Lucas", "Sophie", "George", "Aroha", "Mateo", "Ruby", "Hemi", "Zoe", "Arjun", "Mei",
		"Tane", "Chloe", "Ethan", "Grace", "Hugo", "Lily", "James", "Ana", "Sione", "Priya", "Kai", "Emma", "Finn",
		"Hana", "Samuel", "Ella", "Rawiri", "Yuki", "Daniel", "Ngaio", "Thomas", "Aisha", "Oscar", "Lucía", "Benjamin"}
	lastNames = []string{"Smith", "Williams", "Brown", "Wilson", "Taylor", "Jones", "Singh", "Anderson", "Thompson",
		"Walker", "Ngata", "Harris", "Martin", "Kaur", "Clarke", "Patel", "Lee", "Robinson", "Wright", "King",
		"Chen", "Tuhiwai", "Campbell", "Scott", "Young", "Mitchell", "Kim", "Hall", "Nguyen", "O'Brien", "Parata",
		"Allen", "García", "Edwards", "Baker", "Turner", "Wang", "Cooper", "Morris", "Hughes"}
	domains  = []string{"gmail.com", "outlook.com", "yahoo.com", "xtra.co.nz", "icloud.com", "hotmail.com", "proton.me", "example.org"}
	streets  = []string{"Queen Street", "Karangahape Road", "Lambton Quay", "Cuba Street", "Colombo Street", "George Street", "Ponsonby Road", "Dominion Road", "Victoria Avenue", "High Street", "Great North Road", "Riccarton Road"}
	cities   = []string{"Auckland", "Wellington", "Christchurch", "Hamilton", "Tauranga", "Dunedin", "Palmerston North", "Nelson", "Sydney", "Melbourne", "Brisbane"}
	statuses = []string{"active", "active", "active", "suspended", "closed", "pending"}
	orderSt  = []string{"placed", "paid", "packed", "shipped", "delivered", "cancelled"}
	channels = []string{"web", "ios", "android", "store", "phone"}
	products = []struct{ name, sku string }{
		{"Wireless Mouse", "SKU-10293"}, {"USB-C Cable 2m", "SKU-20311"}, {"Mechanical Keyboard", "SKU-30877"},
		{"27\" Monitor", "SKU-41002"}, {"Noise Cancelling Headphones", "SKU-52214"}, {"Laptop Stand", "SKU-60450"},
		{"Webcam 1080p", "SKU-71123"}, {"Desk Lamp", "SKU-80019"}, {"Phone Case", "SKU-90555"}, {"Coffee Beans 1kg", "SKU-11876"},
	}
	notes = []string{
		"Please call %p before delivery or email %e if nobody is home.",
		"Customer paid with card %c by phone; receipt to %e.",
		"Leave at the back door. Contact %p. Alt email %e",
		"Gift wrap please \u2014 card %c was declined once, retried OK. Phone %p",
	}
	cardPrefixes = []string{"4", "51", "52", "53", "54", "55", "37", "34", "6011"}
)

// epoch anchors generated timestamps so records do not depend on the clock.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (g *Gen) digits(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, byte('0'+g.intn(10)))
	}
	return dst
}

// card returns a Luhn-valid card number with a real issuer prefix (15
// digits for American Express, 16 otherwise).
func (g *Gen) card() string {
	p := g.pick(cardPrefixes)
	n := 16
	if p == "34" || p == "37" {
		n = 15
	}
	b := []byte(p)
	b = g.digits(b, n-len(p)-1)
	return string(append(b, luhnDigit(b)))
}

// luhnDigit is the check digit that makes payload‖digit Luhn-valid.
func luhnDigit(payload []byte) byte {
	sum := 0
	double := true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// LuhnValid reports whether s (digits, spaces and dashes allowed) passes the
// Luhn check.
func LuhnValid(s string) bool {
	sum, n := 0, 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 12 && sum%10 == 0
}

func (g *Gen) phone() string {
	b := make([]byte, 0, 16)
	b = append(b, "+64 2"...)
	b = append(b, byte('0'+g.intn(3)+1), ' ')
	b = g.digits(b, 3)
	b = append(b, ' ')
	b = g.digits(b, 4)
	return string(b)
}

func asciiLower(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

func (g *Gen) email(first, last string) string {
	sep := []string{".", "_", ""}[g.intn(3)]
	return asciiLower(first) + sep + asciiLower(last) + strconv.Itoa(g.intn(100)) + "@" + g.pick(domains)
}

func (g *Gen) date(fromYear, years int) string {
	d := time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.intn(years*365))
	return d.Format("2006-01-02")
}

func (g *Gen) money(max int) string {
	cents := g.intn(max * 100)
	return strconv.Itoa(cents/100) + "." + strconv.Itoa(cents%100/10) + strconv.Itoa(cents%10)
}

// Customer returns one customer record (about 350 bytes): customer_id,
// first_name, last_name, email, date_of_birth, account_balance,
// account_status, phone and a nested address.
func (g *Gen) Customer() []byte {
	g.n++
	first, last := g.pick(firstNames), g.pick(lastNames)
	b := g.buf[:0]
	b = append(b, `{"customer_id":"C`...)
	b = strconv.AppendUint(b, 1000000+g.next()%9000000, 10)
	b = append(b, `","first_name":`...)
	b = strconv.AppendQuote(b, first)
	b = append(b, `,"last_name":`...)
	b = strconv.AppendQuote(b, last)
	b = append(b, `,"email":`...)
	b = strconv.AppendQuote(b, g.email(first, last))
	b = append(b, `,"date_of_birth":"`...)
	b = append(b, g.date(1940, 65)...)
	b = append(b, `","account_balance":`...)
	b = append(b, g.money(25000)...)
	b = append(b, `,"account_status":"`...)
	b = append(b, g.pick(statuses)...)
	b = append(b, `","phone":"`...)
	b = append(b, g.phone()...)
	b = append(b, `","address":{"street":"`...)
	b = strconv.AppendInt(b, int64(1+g.intn(300)), 10)
	b = append(b, ' ')
	b = append(b, g.pick(streets)...)
	b = append(b, `","city":"`...)
	b = append(b, g.pick(cities)...)
	b = append(b, `","postcode":"`...)
	b = g.digits(b, 4)
	b = append(b, `","country":"NZ"}}`...)
	g.buf = b
	return append([]byte(nil), b...)
}

// Order returns one order event (about 700 bytes, nested): order_id,
// status, timestamps, a customer object, one to three items, payment with a
// Luhn-valid card_number, expiry and cvv, a shipping address, and a note
// whose free text holds an email, a phone number or a card number.
func (g *Gen) Order() []byte {
	g.n++
	first, last := g.pick(firstNames), g.pick(lastNames)
	email := g.email(first, last)
	phone := g.phone()
	card := g.card()
	created := epoch.Add(time.Duration(g.next()%(365*24*3600)) * time.Second)
	b := g.buf[:0]
	b = append(b, `{"order_id":"ORD-`...)
	b = strconv.AppendUint(b, 10000000+g.next()%90000000, 10)
	b = append(b, `","status":"`...)
	b = append(b, g.pick(orderSt)...)
	b = append(b, `","created_at":"`...)
	b = created.AppendFormat(b, time.RFC3339)
	b = append(b, `","updated_at":"`...)
	b = created.Add(time.Duration(g.intn(72*3600))*time.Second).AppendFormat(b, time.RFC3339)
	b = append(b, `","channel":"`...)
	b = append(b, g.pick(channels)...)
	b = append(b, `","customer":{"customer_id":"C`...)
	b = strconv.AppendUint(b, 1000000+g.next()%9000000, 10)
	b = append(b, `","first_name":`...)
	b = strconv.AppendQuote(b, first)
	b = append(b, `,"last_name":`...)
	b = strconv.AppendQuote(b, last)
	b = append(b, `,"email":"`...)
	b = append(b, email...)
	b = append(b, `","date_of_birth":"`...)
	b = append(b, g.date(1945, 60)...)
	b = append(b, `","phone":"`...)
	b = append(b, phone...)
	b = append(b, `"},"items":[`...)
	total := 0
	for i := range 1 + g.intn(3) {
		if i > 0 {
			b = append(b, ',')
		}
		p := products[g.intn(len(products))]
		qty := 1 + g.intn(4)
		cents := 199 + g.intn(30000)
		total += qty * cents
		b = append(b, `{"sku":"`...)
		b = append(b, p.sku...)
		b = append(b, `","name":`...)
		b = strconv.AppendQuote(b, p.name)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, int64(qty), 10)
		b = append(b, `,"price":`...)
		b = appendCents(b, cents)
		b = append(b, '}')
	}
	b = append(b, `],"payment":{"method":"card","card_number":"`...)
	b = append(b, card...)
	b = append(b, `","expiry":"`...)
	m := 1 + g.intn(12)
	if m < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(m), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(26+g.intn(6)), 10)
	b = append(b, `","cvv":"`...)
	b = g.digits(b, 3)
	b = append(b, `","amount":`...)
	b = appendCents(b, total)
	b = append(b, `,"currency":"NZD"},"shipping":{"name":`...)
	b = strconv.AppendQuote(b, first+" "+last)
	b = append(b, `,"street":"`...)
	b = strconv.AppendInt(b, int64(1+g.intn(300)), 10)
	b = append(b, ' ')
	b = append(b, g.pick(streets)...)
	b = append(b, `","city":"`...)
	b = append(b, g.pick(cities)...)
	b = append(b, `","postcode":"`...)
	b = g.digits(b, 4)
	b = append(b, `","country":"NZ"},"note":`...)
	b = strconv.AppendQuote(b, fillNote(g.pick(notes), email, phone, card))
	b = append(b, `,"ip":"203.0.113.`...)
	b = strconv.AppendInt(b, int64(1+g.intn(254)), 10)
	b = append(b, `"}`...)
	g.buf = b
	return append([]byte(nil), b...)
}

func appendCents(b []byte, cents int) []byte {
	b = strconv.AppendInt(b, int64(cents/100), 10)
	b = append(b, '.')
	return append(b, byte('0'+cents%100/10), byte('0'+cents%10))
}

// fillNote replaces %e, %p and %c in a note template.
func fillNote(tmpl, email, phone, card string) string {
	out := make([]byte, 0, len(tmpl)+64)
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] == '%' && i+1 < len(tmpl) {
			switch tmpl[i+1] {
			case 'e':
				out = append(out, email...)
				i++
				continue
			case 'p':
				out = append(out, phone...)
				i++
				continue
			case 'c':
				out = append(out, card...)
				i++
				continue
			}
		}
		out = append(out, tmpl[i])
	}
	return string(out)
}

// Orders returns n order events from a generator seeded with seed.
func Orders(seed uint64, n int) [][]byte {
	g := NewGen(seed)
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.Order()
	}
	return out
}

// Customers returns n customer records from a generator seeded with seed.
func Customers(seed uint64, n int) [][]byte {
	g := NewGen(seed)
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.Customer()
	}
	return out
}

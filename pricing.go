package admeter

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// BuyingModel is how a placement is bought: what its Price's Amount is the
// price of.
type BuyingModel string

// The buying models.
const (
	// CPM is a price per thousand impressions.
	CPM BuyingModel = "cpm"
	// CPC is a price per click.
	CPC BuyingModel = "cpc"
	// CPD (cost per day) is a price per day the placement is live.
	CPD BuyingModel = "cpd"
	// Fixed is one price for the whole placement, however long it runs.
	Fixed BuyingModel = "fixed"
)

// BuyingModels lists the buying models in the order forms show them.
var BuyingModels = []BuyingModel{CPM, CPC, CPD, Fixed}

// MicroCNY is the unit of money amounts: one millionth of a yuan (CNY).
// 35 yuan is 35 * MicroCNY.
const MicroCNY = 1_000_000

// MaxPriceAmount is the largest Price.Amount, one billion yuan: more is
// surely a typing error, and every cost computed from a valid price fits in
// an int64 for any realistic traffic.
const MaxPriceAmount = 1_000_000_000 * MicroCNY

// Price is what an advertiser pays for a placement. A placement without a
// Price has an unknown cost, which is not the same as a zero one: a Price
// with Amount 0 is a free (bonus, 配送) placement.
type Price struct {
	Model BuyingModel
	// Amount is in millionths of CNY (see MicroCNY): per thousand
	// impressions for CPM, per click for CPC, per day live for CPD, the
	// total for Fixed. It is 0 to MaxPriceAmount.
	Amount int64
}

// Validate returns an EINVALID error, naming the price as field (such as
// "placements[2].price"), unless p has a known model and an amount from 0 to
// MaxPriceAmount.
func (p Price) Validate(field string) error {
	switch p.Model {
	case CPM, CPC, CPD, Fixed:
	default:
		return Errorf(EINVALID, "%s.model %q is not a buying model; use cpm, cpc, cpd or fixed", field, p.Model)
	}
	if p.Amount < 0 {
		return Errorf(EINVALID, "%s.amount %s is negative", field, FormatCNY(p.Amount))
	} else if p.Amount > MaxPriceAmount {
		return Errorf(EINVALID, "%s.amount %s is more than %s yuan", field, FormatCNY(p.Amount), FormatCNY(MaxPriceAmount))
	}
	return nil
}

// validatePrice checks p.Price, the price of placements[i], if it has one.
func (p *Placement) validatePrice(i int) error {
	if p.Price == nil {
		return nil
	}
	return p.Price.Validate(fmt.Sprintf("placements[%d].price", i))
}

// Usage is what a placement delivered in a date range, the input to
// Price.Cost.
type Usage struct {
	// Impressions and Clicks are the placement's counts in the range.
	Impressions, Clicks int64
	// Days is the number of days in the range on which the placement was
	// live. What counts as live is the caller's to say and document; a
	// report would count the days, in the campaign's time zone, on which
	// the placement recorded at least one impression.
	Days int64
	// FlightDays is the number of days the placement was live in all, for
	// prorating a Fixed price over a range that covers part of its flight;
	// 0 when unknown or when the range covers the whole flight. Other
	// models ignore it.
	FlightDays int64
}

// ErrCostOverflow is returned by Price.Cost when a cost does not fit in an
// int64 number of millionths of CNY (over 9.2 trillion yuan).
var ErrCostOverflow = errors.New("cost overflows int64 millionths of CNY")

// Cost returns the cost in millionths of CNY of what the placement priced
// p delivered, d:
//
//   - CPM: Impressions × Amount / 1000;
//   - CPC: Clicks × Amount;
//   - CPD: Days × Amount;
//   - Fixed: 0 if Days is 0 (not live in the range); Amount if FlightDays
//     is 0 or Days ≥ FlightDays; otherwise Amount × Days / FlightDays, the
//     share of the flight's days that fall in the range.
//
// Products are exact (128-bit); a quotient is rounded to the nearest
// millionth, halves up, so a cost is within half a millionth of a yuan of
// the exact one. A sum of costs over placements or ranges may thus differ
// from the cost of the sum by up to half a millionth per term.
//
// It returns an error if p is not valid, if a count of d is negative, or
// (ErrCostOverflow) if the cost does not fit in an int64.
func (p Price) Cost(d Usage) (int64, error) {
	if err := p.Validate("price"); err != nil {
		return 0, fmt.Errorf("cost: %w", err)
	}
	if d.Impressions < 0 || d.Clicks < 0 || d.Days < 0 || d.FlightDays < 0 {
		return 0, fmt.Errorf("cost: negative usage %+v", d)
	}
	switch p.Model {
	case CPM:
		return mulDivRound(d.Impressions, p.Amount, 1000)
	case CPC:
		return mulDivRound(d.Clicks, p.Amount, 1)
	case CPD:
		return mulDivRound(d.Days, p.Amount, 1)
	default: // Fixed
		switch {
		case d.Days == 0:
			return 0, nil
		case d.FlightDays == 0 || d.Days >= d.FlightDays:
			return p.Amount, nil
		}
		return mulDivRound(d.Days, p.Amount, d.FlightDays)
	}
}

// mulDivRound returns a×b/c rounded to the nearest integer, halves up, for
// a, b ≥ 0 and c > 0, with an exact 128-bit product.
func mulDivRound(a, b, c int64) (int64, error) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, ErrCostOverflow
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if r >= uint64(c)-r { // r ≥ c/2 without overflow: round half up
		q++
	}
	if q > math.MaxInt64 {
		return 0, ErrCostOverflow
	}
	return int64(q), nil
}

// ParseCNY parses an amount of yuan written as a decimal number, such as
// "35", "35.00" or "0.015", into millionths of CNY. It takes digits with at
// most one decimal point and at most six decimals; no sign, exponent,
// thousands separator or currency symbol. Surrounding spaces are ignored.
// It returns an EINVALID error saying what is wrong.
func ParseCNY(s string) (int64, error) {
	t := strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(t, ".")
	if whole == "" && frac == "" || dot && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, Errorf(EINVALID, "amount %q is not a number of yuan such as 35.00", s)
	}
	if len(frac) > 6 {
		return 0, Errorf(EINVALID, "amount %q has more than 6 decimals; amounts are kept to a millionth of a yuan", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 12 { // ≥ 10^12 yuan: far over MaxPriceAmount, and would overflow
		return 0, Errorf(EINVALID, "amount %q is too large", s)
	}
	var yuan int64
	if whole != "" {
		var err error
		if yuan, err = strconv.ParseInt(whole, 10, 64); err != nil {
			return 0, Errorf(EINVALID, "amount %q is not a number of yuan such as 35.00", s)
		}
	}
	micro := int64(0)
	if frac != "" {
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil {
			return 0, Errorf(EINVALID, "amount %q is not a number of yuan such as 35.00", s)
		}
		micro = f
	}
	return yuan*MicroCNY + micro, nil
}

// allDigits reports whether s is only ASCII digits ("" is).
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatCNY returns micro millionths of CNY as a decimal number of yuan with
// at least two and at most six decimals, such as "35.00", "0.015" or
// "1.234567": the form ParseCNY reads back exactly.
func FormatCNY(micro int64) string {
	sign := ""
	u := uint64(micro)
	if micro < 0 {
		sign, u = "-", -u
	}
	frac := fmt.Sprintf("%06d", u%MicroCNY)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return sign + strconv.FormatUint(u/MicroCNY, 10) + "." + frac
}

// Money is an amount in millionths of CNY (MicroCNY) in a report: a cost,
// a cost per user. In JSON it is a decimal string of yuan such as "35.00"
// (FormatCNY), the form prices take in the API; a negative amount (a
// change of spend) has a leading minus.
type Money int64

// MarshalJSON writes m as a string of yuan.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatCNY(int64(m)) + `"`), nil
}

// UnmarshalJSON reads a string of yuan, as ParseCNY does, with an optional
// leading minus.
func (m *Money) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("an amount of money must be a string of yuan such as \"35.00\", not %s", b)
	}
	neg := strings.HasPrefix(s, "-")
	v, err := ParseCNY(strings.TrimPrefix(s, "-"))
	if err != nil {
		return err
	}
	if neg {
		v = -v
	}
	*m = Money(v)
	return nil
}

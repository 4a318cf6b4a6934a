package admeter

import (
	"sort"
	"time"
)

// Well-known conversion types. Advertisers may use others (see
// ValidConversionType).
const (
	ConversionActivation   = "activation"
	ConversionRegistration = "registration"
	ConversionOrder        = "order"
	ConversionPurchase     = "purchase"
	ConversionLead         = "lead"
)

// MaxConversionType bounds the length of a conversion type, in bytes.
const MaxConversionType = 32

// ValidConversionType returns an EINVALID error unless t is a conversion
// type: 1 to MaxConversionType lowercase ASCII letters, digits, '_' or
// '-', starting with a letter.
func ValidConversionType(t string) error {
	if t == "" || len(t) > MaxConversionType || t[0] < 'a' || t[0] > 'z' {
		return Errorf(EINVALID, "conversion type %q: use 1 to %d lowercase letters, digits, _ or -, starting with a letter (activation, registration, order...)", t, MaxConversionType)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return Errorf(EINVALID, "conversion type %q: use 1 to %d lowercase letters, digits, _ or -, starting with a letter (activation, registration, order...)", t, MaxConversionType)
		}
	}
	return nil
}

// validCurrency reports whether c has the form of an ISO 4217 code: three
// uppercase ASCII letters.
func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// ValidCurrency returns an EINVALID error unless c is three uppercase
// letters, the form of an ISO 4217 code such as CNY.
func ValidCurrency(c string) error {
	if !validCurrency(c) {
		return Errorf(EINVALID, "currency %q is not an ISO 4217 code such as CNY or USD", c)
	}
	return nil
}

// DefaultCurrency is the currency of a conversion value that names none.
const DefaultCurrency = "CNY"

// MaxAttributionWindow is the longest attribution window a campaign may
// set.
const MaxAttributionWindow = 90 * 24 * time.Hour

// Default attribution windows: last click within 7 days, else last
// impression within 1 day.
const (
	DefaultClickWindowDays = 7
	DefaultViewWindowDays  = 1
)

// AttributionRule is how far back a conversion looks for the touch that
// caused it: the last click within ClickWindowDays, else the last impression
// within ViewWindowDays. A window of 0 turns that path off.
type AttributionRule struct {
	ClickWindowDays int
	ViewWindowDays  int
}

// ClickWindow and ViewWindow return the windows as durations.
func (r AttributionRule) ClickWindow() time.Duration {
	return time.Duration(r.ClickWindowDays) * 24 * time.Hour
}

// ViewWindow returns the view window as a duration.
func (r AttributionRule) ViewWindow() time.Duration {
	return time.Duration(r.ViewWindowDays) * 24 * time.Hour
}

func (r AttributionRule) validate(what string) error {
	if r.ClickWindowDays < 0 || r.ClickWindowDays > 90 || r.ViewWindowDays < 0 || r.ViewWindowDays > 90 {
		return Errorf(EINVALID, "%s: attribution windows are 0 to 90 days, not %d (click) and %d (view)", what, r.ClickWindowDays, r.ViewWindowDays)
	}
	return nil
}

// Attribution is a campaign's attribution settings. The zero value is the
// default: last click within 7 days, else last impression within 1 day,
// for every conversion type, and no click id on the landing URL.
type Attribution struct {
	// Default is the rule of conversion types without their own; nil means
	// the default windows.
	Default *AttributionRule
	// ByType holds the rules of conversion types that differ from Default.
	ByType map[string]AttributionRule
	// ClickIDParam, when not empty, is the query parameter that the click
	// redirect adds to the landing URL with a fresh click id, which the
	// advertiser reports back with its conversions (opt-in).
	ClickIDParam string
}

// DefaultAttributionRule is the rule of a campaign that sets none.
var DefaultAttributionRule = AttributionRule{ClickWindowDays: DefaultClickWindowDays, ViewWindowDays: DefaultViewWindowDays}

// Rule returns the rule for conversions of type t.
func (a *Attribution) Rule(t string) AttributionRule {
	if r, ok := a.ByType[t]; ok {
		return r
	}
	if a.Default != nil {
		return *a.Default
	}
	return DefaultAttributionRule
}

// Longest returns the longest window of any rule: how far back the touches
// of a conversion may lie.
func (a *Attribution) Longest() time.Duration {
	longest := time.Duration(0)
	rules := []AttributionRule{a.Rule("")}
	for _, r := range a.ByType {
		rules = append(rules, r)
	}
	for _, r := range rules {
		longest = max(longest, r.ClickWindow(), r.ViewWindow())
	}
	return longest
}

// Types returns the conversion types with their own rule, sorted.
func (a *Attribution) Types() []string {
	types := make([]string, 0, len(a.ByType))
	for t := range a.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// Validate checks the windows (0 to 90 days), the conversion types and the
// click-id parameter name.
func (a *Attribution) Validate() error {
	if a.Default != nil {
		if err := a.Default.validate("attribution"); err != nil {
			return err
		}
	}
	if len(a.ByType) > 50 {
		return Errorf(EINVALID, "attribution: at most 50 conversion types may have their own rule")
	}
	for _, t := range a.Types() {
		if err := ValidConversionType(t); err != nil {
			return err
		}
		if err := a.ByType[t].validate("attribution of " + t); err != nil {
			return err
		}
	}
	if p := a.ClickIDParam; p != "" {
		if len(p) > 40 {
			return Errorf(EINVALID, "click_id_param %q is longer than 40 bytes", p)
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return Errorf(EINVALID, "click_id_param %q: use ASCII letters, digits, _ or -", p)
			}
		}
	}
	return nil
}

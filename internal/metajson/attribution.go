package metajson

import (
	"encoding/json"
	"fmt"

	"github.com/admeter/admeter"
)

// attributionDoc is the stored form of an admeter.Attribution: a JSON
// object whose members are all optional, so that "{}" (the column's default,
// held by every campaign created before the column) is the default
// settings. Its names are the schema's, not the Go fields': renaming a field
// must not change what is on disk.
type attributionDoc struct {
	Default      *ruleDoc           `json:"default,omitempty"`
	ByType       map[string]ruleDoc `json:"by_type,omitempty"`
	ClickIDParam string             `json:"click_id_param,omitempty"`
}

// ruleDoc is a stored admeter.AttributionRule.
type ruleDoc struct {
	ClickDays int `json:"click_days"`
	ViewDays  int `json:"view_days"`
}

// EncodeAttribution returns the stored form of a. The zero Attribution
// encodes as "{}".
func EncodeAttribution(a admeter.Attribution) (string, error) {
	d := attributionDoc{ClickIDParam: a.ClickIDParam}
	if a.Default != nil {
		d.Default = &ruleDoc{ClickDays: a.Default.ClickWindowDays, ViewDays: a.Default.ViewWindowDays}
	}
	if len(a.ByType) > 0 {
		d.ByType = make(map[string]ruleDoc, len(a.ByType))
		for t, r := range a.ByType {
			d.ByType[t] = ruleDoc{ClickDays: r.ClickWindowDays, ViewDays: r.ViewWindowDays}
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode attribution: %w", err)
	}
	return string(b), nil
}

// DecodeAttribution reads the stored form s. An Attribution without
// per-type rules has a nil ByType, so that what EncodeAttribution wrote
// reads back equal (given a nil or non-empty ByType).
func DecodeAttribution(s string) (admeter.Attribution, error) {
	var d attributionDoc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return admeter.Attribution{}, fmt.Errorf("decode attribution: %w", err)
	}
	a := admeter.Attribution{ClickIDParam: d.ClickIDParam}
	if d.Default != nil {
		a.Default = &admeter.AttributionRule{ClickWindowDays: d.Default.ClickDays, ViewWindowDays: d.Default.ViewDays}
	}
	if len(d.ByType) > 0 {
		a.ByType = make(map[string]admeter.AttributionRule, len(d.ByType))
		for t, r := range d.ByType {
			a.ByType[t] = admeter.AttributionRule{ClickWindowDays: r.ClickDays, ViewWindowDays: r.ViewDays}
		}
	}
	return a, nil
}

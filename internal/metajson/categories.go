package metajson

import (
	"encoding/json"
	"fmt"
)

// EncodeCategories returns the stored form of a placement's content
// categories (admeter.Placement.Categories): a JSON array of id strings,
// "[]" for none.
func EncodeCategories(ids []string) (string, error) {
	if len(ids) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", fmt.Errorf("encode categories: %w", err)
	}
	return string(b), nil
}

// DecodeCategories reads the stored form s. None ("[]", the column's
// default for placements created before it) decodes as nil, so that what
// EncodeCategories wrote reads back equal given a nil or non-empty list.
func DecodeCategories(s string) ([]string, error) {
	var ids []string
	if err := json.Unmarshal([]byte(s), &ids); err != nil {
		return nil, fmt.Errorf("decode categories: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

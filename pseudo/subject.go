package pseudo

import (
	"fmt"
	"strings"

	"github.com/admeter/admeter"
)

// SubjectTypes lists the identifier types an end user (or a customer on the
// end user's behalf) may name in an opt-out or a rights request: every device
// identifier the collector accepts. Browsers are named by their opt-out
// cookie instead.
var SubjectTypes = []admeter.IDType{
	admeter.IDIDFA, admeter.IDOAID, admeter.IDIMEI, admeter.IDAndroidID,
	admeter.IDAAID, admeter.IDCAID, admeter.IDIDFV, admeter.IDOpenUDID,
	admeter.IDMAC, admeter.IDMACColon, admeter.IDSocial,
}

// ParseSubjectType returns the device identifier type named name (as in
// [admeter.IDType.String], case-insensitive), or an error that lists the
// accepted names.
func ParseSubjectType(name string) (admeter.IDType, error) {
	t, ok := admeter.ParseIDType(strings.ToLower(strings.TrimSpace(name)))
	if ok {
		for _, s := range SubjectTypes {
			if s == t {
				return t, nil
			}
		}
	}
	names := make([]string, len(SubjectTypes))
	for i, s := range SubjectTypes {
		names[i] = s.String()
	}
	if name == "" {
		return admeter.IDNone, admeter.Errorf(admeter.EINVALID, "id_type is required: one of %s", strings.Join(names, ", "))
	}
	return admeter.IDNone, admeter.Errorf(admeter.EINVALID, "id_type %q is not supported: use one of %s", clip(name), strings.Join(names, ", "))
}

// ParseForm returns the form named name: "raw", "md5", or "" for automatic
// detection (reported as 0).
func ParseForm(name string) (Form, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		return 0, nil
	case "raw":
		return FormRaw, nil
	case "md5":
		return FormMD5, nil
	}
	return 0, admeter.Errorf(admeter.EINVALID, "form must be raw, md5 or omitted (detected), not %q", clip(name))
}

// CanonicalizeSubject canonicalises the identifier of an end user named in an
// opt-out or a rights request, exactly as the collector would (see
// [Canonicalize]). With form 0 the form is detected: 32 hex digits are taken
// as an MD5 and, if the same text is also a valid raw identifier of type t
// (an OAID or an IMEI can be 32 hex digits), as a raw value too, so that one
// or two Canonicals come back; acting on both is the safe direction for an
// opt-out or a deletion. Errors say what the value should look like and
// never repeat it, since it is a device identifier.
func CanonicalizeSubject(t admeter.IDType, f Form, value string) ([]Canonical, error) {
	if !t.Valid() || t == admeter.IDCookie {
		return nil, admeter.Errorf(admeter.EINVALID, "identifier type %s cannot be named in a request", t)
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, admeter.Errorf(admeter.EINVALID, "id is required: the %s, raw or as its MD5", t)
	}
	forms := []Form{f}
	if t == admeter.IDSocial {
		forms = []Form{FormRaw}
	} else if f == 0 {
		forms = []Form{FormRaw}
		if len(v) == 32 && isHex(v) {
			forms = []Form{FormMD5, FormRaw}
		}
	}
	var out []Canonical
	var first Reason
	for i, form := range forms {
		c, r := Canonicalize(t, form, v)
		if i == 0 {
			first = r
			if r == ReasonPlaceholder && len(forms) > 1 {
				// The MD5 of a placeholder (md5("__OAID__"), of all
				// zeros...) is what a media platform sends for "no id";
				// it names no device even if it also parses as raw.
				break
			}
		}
		if r == ReasonOK && (len(out) == 0 || out[0] != c) {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if t == admeter.IDSocial {
		return nil, admeter.Errorf(admeter.EINVALID, "the social account cannot be read: expected %s", expected(t, FormRaw))
	}
	if first == ReasonPlaceholder || first == ReasonEmpty {
		return nil, admeter.Errorf(admeter.EINVALID, "the %s is a placeholder (all zeros, a known dummy value or an unreplaced macro), not a device's identifier", t)
	}
	return nil, admeter.Errorf(admeter.EINVALID, "the %s is malformed: expected %s", t, expected(t, forms[0]))
}

// expected describes the accepted shape of an identifier of type t in form f.
func expected(t admeter.IDType, f Form) string {
	if t == admeter.IDSocial {
		return "the platform and the handle, such as weibo:@name"
	}
	if f == FormMD5 || t == admeter.IDCAID {
		return "32 hexadecimal digits (the MD5)"
	}
	switch t {
	case admeter.IDIDFA, admeter.IDIDFV, admeter.IDAAID:
		return "a UUID such as 6D92078A-8246-4BA4-AE5B-76104861E7DC, or its MD5 (32 hex digits)"
	case admeter.IDOAID:
		return "16 to 64 letters, digits or hyphens, or its MD5 (32 hex digits)"
	case admeter.IDIMEI:
		return "14 to 17 hexadecimal digits (an IMEI or MEID), or its MD5 (32 hex digits)"
	case admeter.IDAndroidID:
		return "13 to 16 hexadecimal digits, or its MD5 (32 hex digits)"
	case admeter.IDOpenUDID:
		return "40 hexadecimal digits, or its MD5 (32 hex digits)"
	case admeter.IDMAC, admeter.IDMACColon:
		return "a MAC address such as 3C:A9:F4:00:11:22, or its MD5 (32 hex digits)"
	}
	return "a device identifier"
}

// clip shortens a caller-supplied name for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return fmt.Sprintf("%.32s…", s)
	}
	return s
}

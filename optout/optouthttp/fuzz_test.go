package optouthttp

import (
	"testing"

	"github.com/admeter/admeter/pseudo"
)

// FuzzDecodeIDRequest feeds arbitrary bodies to the API's decoder and to the
// identifier parser behind it. Neither may panic; a refusal must be a fixed
// sentence that does not repeat the identifier; an acceptance must give at
// least one pseudonym.
func FuzzDecodeIDRequest(f *testing.F) {
	for _, s := range []string{
		`{"id_type":"idfa","id":"6d92078a-8246-4ba4-ae5b-76104861e7dc"}`,
		`{"id_type":"imei","id":"864120035761243","form":"raw"}`,
		`{"id_type":"oaid","id":"0123456789abcdef0123456789abcdef"}`,
		`{"id_type":"mac","id":"ac:de:48:00:11:22"}`,
		`{"id_type":"caid","id":"9f86d081884c7d659a2feaa0c55ad015","form":"md5"}`,
		`{"id_type":"android_id","id":"__ANDROIDID__"}`,
		`{"id_type":"idfa","id":"00000000-0000-0000-0000-000000000000"}`,
		`{"id_type":"idfa","id":"6d92078a-8246-4ba4-ae5b-76104861e7dc","6d92078a-8246-4ba4-ae5b-76104861e7dc":1}`,
		`{"id_type":"imei","id":864120035761243}`,
		`{"id_type":"imei"} {"id":"864120035761243"}`,
		`[]`, `null`, `{}`, `{"id":"\u0000"}`, `{"id_type":"idfa","id":"`,
	} {
		f.Add([]byte(s))
	}
	ps, err := pseudo.New(pseudo.Key{Version: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, prob := decodeIDRequest(body)
		if prob != nil {
			if prob.prob != probBody || !decodeMessages[prob.msg] {
				t.Fatalf("decode refusal %+v is not one of the fixed messages", prob)
			}
			return
		}
		d, prob := parseDevice(ps, req.IDType, req.ID, req.Form)
		if prob != nil {
			// The message depends only on the type, the form and the
			// reason, never on the value.
			if !parseMessages[prob.msg] {
				t.Fatalf("parse refusal %+v is not one of the fixed messages", prob)
			}
			for _, tx := range []*texts{&zhTexts, &enTexts} {
				if !parseMessages[tx.problemText(prob)] {
					t.Fatalf("page message %q is not one of the fixed messages", tx.problemText(prob))
				}
			}
			return
		}
		if len(d.ps) == 0 || len(d.ps) > 3 {
			t.Fatalf("accepted with %d pseudonyms", len(d.ps))
		}
		for _, p := range d.ps {
			if p.IsZero() {
				t.Fatal("accepted with the zero pseudonym")
			}
		}
	})
}

// decodeMessages are all the messages decodeIDRequest may give.
var decodeMessages = func() map[string]bool {
	m := map[string]bool{msgEmptyBody: true, msgNotJSON: true, msgIncomplete: true, msgTwoValues: true, msgUnknownField: true, msgNotObject: true}
	for _, s := range msgNotString {
		m[s] = true
	}
	return m
}()

// parseMessages are all the messages, API and page, that parseDevice's
// refusals may give.
var parseMessages = func() map[string]bool {
	m := map[string]bool{}
	var probs []*inputError
	_, p1 := parseIDType("")
	_, p2 := parseIDType("no such type")
	_, p3 := parseForm("sha1")
	probs = append(probs, p1, p2, p3)
	for _, t := range types {
		for _, f := range []pseudo.Form{0, pseudo.FormRaw, pseudo.FormMD5} {
			for _, r := range []pseudo.Reason{pseudo.ReasonEmpty, pseudo.ReasonPlaceholder, pseudo.ReasonMalformed} {
				probs = append(probs, idError(t, f, r))
			}
		}
	}
	for _, p := range probs {
		m[p.msg] = true
		m[zhTexts.problemText(p)] = true
		m[enTexts.problemText(p)] = true
	}
	return m
}()

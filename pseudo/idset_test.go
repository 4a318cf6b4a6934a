package pseudo

import (
	"testing"

	"github.com/admeter/admeter"
)

func TestIDSetPriority(t *testing.T) {
	// One valid value of every type, added in reverse priority order.
	values := []struct {
		typ  admeter.IDType
		form Form
		v    string
	}{
		{admeter.IDCAID, FormMD5, "0123456789abcdef0123456789abcdef"},
		{admeter.IDIDFV, FormRaw, "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4F"},
		{admeter.IDOpenUDID, FormRaw, "ee3f5c1bd2a74e6b8f09a1c2d3e4f5a6b7c8d9e0"},
		{admeter.IDMACColon, FormRaw, "aa:bb:cc:dd:ee:ff"},
		{admeter.IDMAC, FormRaw, "aa:bb:cc:dd:ee:ff"},
		{admeter.IDAAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69"},
		{admeter.IDAndroidID, FormRaw, "a1b2c3d4e5f60718"},
		{admeter.IDIMEI, FormRaw, "868049039501257"},
		{admeter.IDIDFA, FormRaw, "E2DFA89F-9A4B-4D2C-8C5E-3F0A1B2C3D4E"},
		{admeter.IDOAID, FormRaw, "a1b2c3d4e5f60718"},
	}
	var s IDSet
	if _, _, ok := s.Best(); ok || s.Len() != 0 {
		t.Fatal("zero IDSet is not empty")
	}
	for i, v := range values {
		if r := s.Add(v.typ, v.form, v.v); r != ReasonOK {
			t.Fatalf("Add(%v, %q) = %v", v.typ, v.v, r)
		}
		if s.Len() != i+1 {
			t.Fatalf("Len() = %d after %d adds", s.Len(), i+1)
		}
		// Each added type outranks everything added before it.
		typ, c, ok := s.Best()
		if !ok || typ != v.typ || c != mustCanon(t, v.typ, v.form, v.v) {
			t.Fatalf("after adding %v, Best() = %v, ok %v", v.typ, typ, ok)
		}
	}
	var order []admeter.IDType
	s.Each(func(typ admeter.IDType, c Canonical) {
		if got, _ := s.Get(typ); got != c {
			t.Errorf("Each gave %v a value Get does not return", typ)
		}
		order = append(order, typ)
	})
	for i, typ := range order {
		if want := admeter.IDType(i + 1); typ != want {
			t.Fatalf("Each order %v, want the admeter.IDType constant order", order)
		}
	}
	if len(order) != len(values) {
		t.Fatalf("Each visited %d types, want %d", len(order), len(values))
	}
}

func TestIDSetFirstValidWins(t *testing.T) {
	var s IDSet
	steps := []struct {
		form Form
		v    string
		want Reason
	}{
		{FormRaw, "", ReasonEmpty},
		{FormMD5, "5284047f4ffb4e04824a2fd1d1f0cd62", ReasonPlaceholder}, // md5 of 15 zeros
		{FormRaw, "86804903950", ReasonMalformed},
		{FormRaw, "868049039501257", ReasonOK}, // kept
		{FormRaw, "868049039501258", ReasonOK}, // valid but a second IMEI: ignored
	}
	for _, st := range steps {
		if r := s.Add(admeter.IDIMEI, st.form, st.v); r != st.want {
			t.Errorf("Add(imei, %v, %q) = %v, want %v", st.form, st.v, r, st.want)
		}
	}
	c, ok := s.Get(admeter.IDIMEI)
	if !ok || c != mustCanon(t, admeter.IDIMEI, FormRaw, "868049039501257") {
		t.Fatal("the first valid IMEI was not kept")
	}
	if s.Len() != 1 || s.Has(admeter.IDOAID) || s.Has(admeter.IDType(200)) {
		t.Fatalf("set holds unexpected types: %v", s)
	}
	if _, ok := s.Get(admeter.IDOAID); ok {
		t.Fatal("Get(oaid) found a value never added")
	}
	if r := s.Add(admeter.IDType(200), FormMD5, md5Hex("x")); r != ReasonMalformed || s.Len() != 1 {
		t.Fatalf("Add with an invalid type = %v, Len %d", r, s.Len())
	}
}

func TestUserKey(t *testing.T) {
	p := mustNew(t, 1, testSecret())
	if ps, typ := p.UserKey(nil); !ps.IsZero() || typ != admeter.IDNone {
		t.Errorf("UserKey(nil) = %s, %v", ps, typ)
	}
	var s IDSet
	s.Add(admeter.IDOAID, FormRaw, "OAID") // placeholder: not added
	if ps, typ := p.UserKey(&s); !ps.IsZero() || typ != admeter.IDNone {
		t.Errorf("UserKey(empty) = %s, %v", ps, typ)
	}
	s.Add(admeter.IDAndroidID, FormMD5, md5Hex("a1b2c3d4e5f60718"))
	s.Add(admeter.IDIMEI, FormRaw, "868049039501257")
	s.Add(admeter.IDMAC, FormRaw, "aa:bb:cc:dd:ee:ff")
	ps, typ := p.UserKey(&s)
	if typ != admeter.IDIMEI {
		t.Fatalf("UserKey type %v, want imei", typ)
	}
	if want := p.Pseudonym(admeter.IDIMEI, mustCanon(t, admeter.IDIMEI, FormMD5, md5Hex("868049039501257"))); ps != want {
		t.Fatalf("UserKey = %s, want %s", ps, want)
	}
}

func TestIDSetAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		var s IDSet
		s.Add(admeter.IDOAID, FormRaw, "3c1a6f0e-6b1f-4b8a-9b0e-1f2d3c4b5a69")
		s.Add(admeter.IDIMEI, FormMD5, "8d3ebd3654fb46a2832296669cf1b536")
		s.Each(func(admeter.IDType, Canonical) {})
		s.Best()
	})
	if n != 0 {
		t.Errorf("IDSet allocates %v times", n)
	}
}

package taxonomy

import (
	"errors"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	all := All()
	if got, want := len(all), 750; got != want {
		t.Errorf("len(All()) = %d, want %d", got, want)
	}
	tiers := map[int]int{}
	types := map[Type]int{}
	scd := 0
	for _, c := range all {
		tiers[c.Tier]++
		types[c.Type]++
		if c.SCD {
			scd++
		}
	}
	for tier, want := range map[int]int{1: 43} {
		if tiers[tier] != want {
			t.Errorf("%d categories of tier %d, want %d", tiers[tier], tier, want)
		}
	}
	for typ, want := range map[Type]int{Content: 691, SensitiveTopic: 12, DescriptiveVector: 42, BrandSuitability: 5} {
		if types[typ] != want {
			t.Errorf("%d categories of type %s, want %d", types[typ], typ, want)
		}
	}
	if len(types) != 4 {
		t.Errorf("types %v, want only the four defined", types)
	}
	if scd != 64 {
		t.Errorf("%d categories flagged SCD, want 64", scd)
	}
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		id, parent, name, nameZH string
		tier                     int
		typ                      Type
		scd                      bool
	}{
		{"1", "", "Automotive", "汽车", 1, Content, false},
		{"42", "", "Books and Literature", "图书与文学", 1, Content, false},
		{"483", "", "Sports", "体育", 1, Content, false},
		{"3", "2", "Commercial Trucks", "", 3, Content, false},
		{"64", "63", "Angel Investment", "", 4, Content, false},
		{"JLBCU7", "", "Entertainment", "娱乐", 1, Content, false},
		{"80DV8O", "602", "Communication", "", 4, Content, false},
		{"314", "287", "Cancer", "", 3, Content, true},
		{"v9i3On", "", "Sensitive Topics", "敏感话题", 1, SensitiveTopic, false},
		{"8FD8nI", "v9i3On", "Terrorism", "", 2, SensitiveTopic, false},
		{"3927X6", "C2UKBG", "Episodic Show", "", 4, DescriptiveVector, false},
		{"bsr002", "MRkz4Q", "High Risk", "", 2, BrandSuitability, false},
		{"1219", "", "*Content Source Geo Extension", "内容来源地域扩展", 1, DescriptiveVector, false},
	} {
		c, ok := Lookup(tt.id)
		want := Category{ID: tt.id, Parent: tt.parent, Tier: tt.tier, Type: tt.typ, SCD: tt.scd, Name: tt.name, NameZH: tt.nameZH}
		if !ok || c != want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", tt.id, c, ok, want)
		}
	}
	for _, id := range []string{"", "0", "9999", "jlbcu7", " 1", "1 ", "Sports"} {
		if c, ok := Lookup(id); ok {
			t.Errorf("Lookup(%q) = %+v, want none", id, c)
		}
	}
}

func TestTier1(t *testing.T) {
	for id, want := range map[string]string{"1": "1", "3": "1", "64": "52", "80DV8O": "596", "3927X6": "1022", "bsr004": "MRkz4Q", "340": "JLBCU7"} {
		if c, ok := Tier1(id); !ok || c.ID != want || c.Tier != 1 {
			t.Errorf("Tier1(%q) = %+v, %v; want %s", id, c, ok, want)
		}
	}
	if c, ok := Tier1("nope"); ok {
		t.Errorf("Tier1(nope) = %+v, want none", c)
	}
}

// TestStructure checks the whole table: ids unique, every parent present
// and one tier up, Chinese names on exactly the Tier-1 categories, and
// Type shared by a category and its parent.
func TestStructure(t *testing.T) {
	all := All()
	seen := map[string]Category{}
	for _, c := range all {
		if _, dup := seen[c.ID]; dup {
			t.Errorf("id %q twice", c.ID)
		}
		seen[c.ID] = c
	}
	for _, c := range all {
		if (c.Tier == 1) != (c.Parent == "") {
			t.Errorf("%s: tier %d with parent %q", c.ID, c.Tier, c.Parent)
		}
		if (c.Tier == 1) != (c.NameZH != "") {
			t.Errorf("%s: tier %d with Chinese name %q", c.ID, c.Tier, c.NameZH)
		}
		if strings.TrimSpace(c.Name) != c.Name || c.Name == "" {
			t.Errorf("%s: name %q", c.ID, c.Name)
		}
		if c.Parent == "" {
			continue
		}
		p, ok := seen[c.Parent]
		if !ok {
			t.Errorf("%s: parent %s missing", c.ID, c.Parent)
		} else if p.Tier != c.Tier-1 || p.Type != c.Type {
			t.Errorf("%s (tier %d, %s) under %s (tier %d, %s)", c.ID, c.Tier, c.Type, p.ID, p.Tier, p.Type)
		}
	}
	// All returns a copy.
	all[0].Name = "changed"
	if All()[0].Name == "changed" {
		t.Error("All() shares its slice with the package")
	}
}

func TestValid(t *testing.T) {
	if err := Valid("483"); err != nil {
		t.Errorf("Valid(483) = %v", err)
	}
	err := Valid("Sports")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `"Sports"`) {
		t.Errorf("Valid(Sports) = %v, want ErrUnknown naming the id", err)
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "1\t\t1\tcontent\t\tAutomotive\t汽车\n"
	if _, err := parse("# header\n" + ok + "2\t1\t2\tcontent\t\tAuto Body Styles\t\n"); err != nil {
		t.Fatalf("parse of a good table: %v", err)
	}
	for name, in := range map[string]string{
		"Columns":       "1\t\t1\tcontent\tAutomotive\n",
		"Tier":          "1\t\t5\tcontent\t\tAutomotive\t\n",
		"NoID":          "\t\t1\tcontent\t\tAutomotive\t\n",
		"Duplicate":     ok + ok,
		"MissingParent": ok + "2\t9\t2\tcontent\t\tX\t\n",
		"WrongTier":     ok + "2\t1\t3\tcontent\t\tX\t\n",
		"RootTier":      "1\t\t2\tcontent\t\tAutomotive\t\n",
	} {
		if _, err := parse(in); err == nil {
			t.Errorf("%s: parse succeeded", name)
		}
	}
}

// FuzzValid checks that any string is answered without panic and that
// Valid agrees with Lookup.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"1", "483", "JLBCU7", "", "bsr001", "\x00", "九"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		_, ok := Lookup(id)
		if err := Valid(id); (err == nil) != ok {
			t.Fatalf("Valid(%q) = %v but Lookup found %v", id, err, ok)
		}
	})
}

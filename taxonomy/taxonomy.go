package taxonomy

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Version is the version of the IAB Content Taxonomy shipped here.
const Version = "3.0"

// Type says what kind of category a Category is, as the source data labels it.
type Type string

// The kinds of category.
const (
	// Content is a subject category: Automotive, Sports, Travel.
	Content Type = "content"
	// SensitiveTopic is one of the Sensitive Topics (adult content, arms,
	// hate speech…), used for brand safety.
	SensitiveTopic Type = "sensitive_topic"
	// DescriptiveVector describes the content rather than its subject: its
	// environment, purpose, source or form (video, podcast).
	DescriptiveVector Type = "descriptive_vector"
	// BrandSuitability is a brand suitability and risk tier.
	BrandSuitability Type = "brand_suitability"
)

// Category is one category of the taxonomy.
type Category struct {
	// ID is the category's unique id, e.g. "483".
	ID string
	// Parent is the id of the parent category, "" for a Tier-1 category.
	Parent string
	// Tier is the depth, 1 to 4: a Tier-1 category has no parent.
	Tier int
	// Type is the kind of category.
	Type Type
	// SCD is set where the source flags the category as sensitive category
	// data: content about it may reveal, for example, health or religion.
	SCD bool
	// Name is the English name, e.g. "Sports".
	Name string
	// NameZH is the Simplified Chinese name of a Tier-1 category (admeter's
	// translation), "" below Tier 1.
	NameZH string
}

// ErrUnknown is the error Valid wraps for an id not in the taxonomy.
var ErrUnknown = errors.New("not an IAB Content Taxonomy " + Version + " category id")

//go:embed content-3.0.tsv
var data string

// table is the parsed taxonomy.
type table struct {
	all  []Category
	byID map[string]int // index into all
}

// load parses data once; the data is tested, so a parse error is a build
// defect and panics.
var load = sync.OnceValue(func() *table {
	t, err := parse(data)
	if err != nil {
		panic("taxonomy: embedded content-3.0.tsv: " + err.Error())
	}
	return t
})

// parse reads the tab-separated table described in the file's header.
func parse(s string) (*table, error) {
	t := &table{byID: make(map[string]int)}
	sc := bufio.NewScanner(strings.NewReader(s))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("line %d: %d columns, want 7", n, len(f))
		}
		tier, err := strconv.Atoi(f[2])
		if err != nil || tier < 1 || tier > 4 {
			return nil, fmt.Errorf("line %d: tier %q is not 1 to 4", n, f[2])
		}
		c := Category{ID: f[0], Parent: f[1], Tier: tier, Type: Type(f[3]), SCD: f[4] == "1", Name: f[5], NameZH: f[6]}
		if c.ID == "" || c.Name == "" {
			return nil, fmt.Errorf("line %d: id and name are required", n)
		}
		if _, dup := t.byID[c.ID]; dup {
			return nil, fmt.Errorf("line %d: id %q given twice", n, c.ID)
		}
		t.byID[c.ID] = len(t.all)
		t.all = append(t.all, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, c := range t.all {
		if c.Parent == "" {
			if c.Tier != 1 {
				return nil, fmt.Errorf("category %s has no parent but tier %d", c.ID, c.Tier)
			}
			continue
		}
		i, ok := t.byID[c.Parent]
		if !ok {
			return nil, fmt.Errorf("category %s: parent %s does not exist", c.ID, c.Parent)
		} else if p := t.all[i]; p.Tier != c.Tier-1 {
			return nil, fmt.Errorf("category %s: tier %d under parent %s of tier %d", c.ID, c.Tier, p.ID, p.Tier)
		}
	}
	return t, nil
}

// Lookup returns the category with the given id, and whether there is one.
func Lookup(id string) (Category, bool) {
	t := load()
	i, ok := t.byID[id]
	if !ok {
		return Category{}, false
	}
	return t.all[i], true
}

// Tier1 returns the Tier-1 ancestor of the category id (the category itself
// if it is Tier 1), and whether id is in the taxonomy.
func Tier1(id string) (Category, bool) {
	c, ok := Lookup(id)
	for ok && c.Parent != "" {
		c, ok = Lookup(c.Parent)
	}
	return c, ok
}

// All returns every category, in the source's order (each Tier-1 category
// followed by its descendants, with a few exceptions the source has). The
// slice is the caller's.
func All() []Category {
	t := load()
	out := make([]Category, len(t.all))
	copy(out, t.all)
	return out
}

// Valid returns nil if id is a category of the taxonomy, and otherwise an
// error wrapping ErrUnknown that names the id.
func Valid(id string) error {
	if _, ok := Lookup(id); ok {
		return nil
	}
	return fmt.Errorf("%q is %w; use the id, not the name (e.g. \"483\" for Sports)", id, ErrUnknown)
}

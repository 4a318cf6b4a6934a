package console

import (
	"io/fs"
	"regexp"
	"testing"
)

// TestEveryLabelTranslated: every key a template asks for exists in both
// languages, and both languages have the same keys.
func TestEveryLabelTranslated(t *testing.T) {
	re := regexp.MustCompile(`\.T "([a-z_]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			for _, lang := range []string{langZH, langEN} {
				if _, ok := messages[lang][m[1]]; !ok {
					t.Errorf("%s: label %q has no %s text", path, m[1], lang)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range messages[langZH] {
		if _, ok := messages[langEN][k]; !ok {
			t.Errorf("label %q has no English text", k)
		}
	}
	for k := range messages[langEN] {
		if _, ok := messages[langZH][k]; !ok {
			t.Errorf("label %q has no Chinese text", k)
		}
	}
}

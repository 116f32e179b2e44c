package rulesets

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ParseFile reads and parses the ruleset file at path. Its name is the file
// name without .yaml or .yml, its Dir the file's folder (where user seed
// files are looked for) and its Source the file's bytes. A file that cannot
// be read is an error wrapping the os error; a ruleset with problems is an
// ErrorList, as from Parse.
func ParseFile(path string) (*Ruleset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rulesets: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("rulesets: %s is a directory; give a ruleset file (*.yaml)", path)
	}
	if st.Size() > MaxRulesetBytes {
		return nil, ErrorList{Errorf(Pos{File: path, Line: 1, Col: 1}, "the ruleset is %d bytes; the limit is %d", st.Size(), MaxRulesetBytes)}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rulesets: %w", err)
	}
	rs, err := Parse(NameOf(path), path, src)
	if err != nil {
		return nil, err
	}
	rs.Dir = filepath.Dir(path)
	return rs, nil
}

// NameOf returns the ruleset name of a file path: its base name without
// the .yaml or .yml extension.
func NameOf(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".yaml", ".yml"} {
		if strings.HasSuffix(base, ext) && len(base) > len(ext) {
			return strings.TrimSuffix(base, ext)
		}
	}
	return base
}

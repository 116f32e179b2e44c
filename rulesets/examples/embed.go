// Package examples holds the ready-made rulesets users copy from, and
// embeds them so `maskstream demo` runs without any file on disk.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// FS returns the example rulesets: one *.yaml file per ruleset, named
// after the ruleset.
func FS() fs.FS { return files }

// Source returns one example ruleset's YAML by ruleset name (without
// .yaml).
func Source(name string) ([]byte, error) { return files.ReadFile(name + ".yaml") }

package engine

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The string transforms: transform_case, take_substring, replace_substring
// and mask_characters. Indexes count characters (Unicode code points), not
// bytes, and follow Python's slices as DataMasque's do: negative indexes
// count from the end and out-of-range indexes are clamped. A number is
// worked on as its text and must still be a number afterwards.

func init() {
	register("transform_case", newTransformCase)
	register("take_substring", newTakeSubstring)
	register("replace_substring", newReplaceSubstring)
	register("mask_characters", newMaskCharacters)
}

// --- transform_case ---

type transformCaseParams struct {
	Case string `yaml:"case" ms:"required"`
}

type transformCaseMask struct{ fn func(string) string }

// xfCases maps each accepted spelling to its function. The short forms are
// canonical; the long ones are accepted because DataMasque's own spelling
// could not be confirmed.
var xfCases = map[string]func(string) string{
	"upper":      strings.ToUpper,
	"uppercase":  strings.ToUpper,
	"lower":      strings.ToLower,
	"lowercase":  strings.ToLower,
	"title":      xfTitle,
	"titlecase":  xfTitle,
	"title_case": xfTitle,
	"capitalize": xfCapitalize,
}

func newTransformCase(p *Params) (Mask, error) {
	var ps transformCaseParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	fn, ok := xfCases[strings.ToLower(ps.Case)]
	if !ok {
		return nil, p.ErrorAt(p.Param("case"), "case must be one of upper, lower, title or capitalize")
	}
	return &transformCaseMask{fn: fn}, nil
}

// Apply changes only strings: a number or boolean has no case to change,
// and changing "true" to "TRUE" would break its JSON type.
func (m *transformCaseMask) Apply(c *Ctx, v Value) (Value, error) {
	if v.Kind != String {
		return v, nil
	}
	return Str(m.fn(v.S)), nil
}

// xfTitle is Python's str.title: a letter after a non-letter is upper
// case, every other letter lower case.
func xfTitle(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevLetter := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prevLetter {
				r = unicode.ToLower(r)
			} else {
				r = unicode.ToTitle(r)
			}
			prevLetter = true
		} else {
			prevLetter = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// xfCapitalize is Python's str.capitalize: the first character upper
// case, the rest lower case.
func xfCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + strings.ToLower(s[n:])
}

// --- take_substring ---

type substringParams struct {
	StartIndex int  `yaml:"start_index"`
	EndIndex   *int `yaml:"end_index"`
}

type takeSubstringMask struct{ substringParams }

func newTakeSubstring(p *Params) (Mask, error) {
	var ps substringParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	if p.Param("start_index") == nil && ps.EndIndex == nil {
		return nil, p.Errorf("take_substring needs start_index or end_index (or both); without them it would keep the whole value")
	}
	if err := xfCheckRange(p, ps); err != nil {
		return nil, err
	}
	return &takeSubstringMask{ps}, nil
}

// xfCheckRange rejects ranges that are empty whatever the value's length.
func xfCheckRange(p *Params, ps substringParams) error {
	if ps.EndIndex != nil && (ps.StartIndex >= 0) == (*ps.EndIndex >= 0) && *ps.EndIndex < ps.StartIndex {
		return p.ErrorAt(p.Param("end_index"), "end_index (%d) is before start_index (%d), so the range is always empty", *ps.EndIndex, ps.StartIndex)
	}
	return nil
}

func (m *takeSubstringMask) Apply(c *Ctx, v Value) (Value, error) {
	text, err := xfTextOf(v, "take_substring")
	if err != nil {
		return Value{}, err
	}
	runes := []rune(text)
	lo, hi := xfSliceBounds(len(runes), m.StartIndex, m.EndIndex)
	return xfSameKind(v, string(runes[lo:hi]))
}

// --- replace_substring ---

type replaceSubstringParams struct {
	StartIndex int        `yaml:"start_index"`
	EndIndex   *int       `yaml:"end_index"`
	Masks      *yaml.Node `yaml:"masks" ms:"required"`
}

type replaceSubstringMask struct {
	r     substringParams
	masks Pipeline
}

func newReplaceSubstring(p *Params) (Mask, error) {
	var ps replaceSubstringParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	r := substringParams{StartIndex: ps.StartIndex, EndIndex: ps.EndIndex}
	if err := xfCheckRange(p, r); err != nil {
		return nil, err
	}
	pl, err := p.nestedPipeline(ps.Masks, "masks", xfPipelineExample)
	if err != nil {
		return nil, err
	}
	return &replaceSubstringMask{r: r, masks: pl}, nil
}

// xfPipelineExample shows how a nested list of masks is written.
const xfPipelineExample = "{ type: imitate }"

// xfNotText is the error of a nested mask that returned no text.
const xfNotText = "a nested mask returned %s; a part of a string must be replaced by text"

func (m *replaceSubstringMask) Apply(c *Ctx, v Value) (Value, error) {
	text, err := xfTextOf(v, "replace_substring")
	if err != nil {
		return Value{}, err
	}
	runes := []rune(text)
	lo, hi := xfSliceBounds(len(runes), m.r.StartIndex, m.r.EndIndex)
	if lo == hi {
		return v, nil
	}
	mid, err := c.runForText(m.masks, xfNotText, string(runes[lo:hi]))
	if err != nil {
		return Value{}, err
	}
	return xfSameKind(v, string(runes[:lo])+mid+string(runes[hi:]))
}

// --- mask_characters (ours) ---

type maskCharactersParams struct {
	KeepFirst int    `yaml:"keep_first"`
	KeepLast  int    `yaml:"keep_last"`
	Character string `yaml:"character"`
	// SkipCharacters are left as they are wherever they appear (for
	// example " -" keeps the grouping of a card number visible).
	SkipCharacters string `yaml:"skip_characters"`
}

type maskCharactersMask struct {
	first, last int
	char        rune
	skip        string
}

func newMaskCharacters(p *Params) (Mask, error) {
	ps := maskCharactersParams{Character: "*"}
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	if ps.KeepFirst < 0 {
		return nil, p.ErrorAt(p.Param("keep_first"), "keep_first must not be negative")
	}
	if ps.KeepLast < 0 {
		return nil, p.ErrorAt(p.Param("keep_last"), "keep_last must not be negative")
	}
	if utf8.RuneCountInString(ps.Character) != 1 {
		return nil, p.ErrorAt(p.Param("character"), "character must be exactly one character, such as \"*\" or \"#\"")
	}
	ch, _ := utf8.DecodeRuneInString(ps.Character)
	if strings.ContainsRune(ps.SkipCharacters, ch) {
		return nil, p.ErrorAt(p.Param("skip_characters"), "skip_characters must not contain the masking character")
	}
	return &maskCharactersMask{first: ps.KeepFirst, last: ps.KeepLast, char: ch, skip: ps.SkipCharacters}, nil
}

// Apply masks every character but the first keep_first and the last
// keep_last. A value too short to keep them and still hide something is
// masked entirely: keeping it whole would reveal it.
func (m *maskCharactersMask) Apply(c *Ctx, v Value) (Value, error) {
	text, err := xfTextOf(v, "mask_characters")
	if err != nil {
		return Value{}, err
	}
	runes := []rune(text)
	first, last := m.first, m.last
	if first+last >= len(runes) {
		first, last = 0, 0
	}
	for i := first; i < len(runes)-last; i++ {
		if !strings.ContainsRune(m.skip, runes[i]) {
			runes[i] = m.char
		}
	}
	return xfSameKind(v, string(runes))
}

package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"testing"
	"unicode/utf8"
)

// alphabetsDigest is SHA-256 over every alphabet in id order: its kind, its
// size and its characters, in order, each as 4 big-endian bytes.
func alphabetsDigest() string {
	h := sha256.New()
	var w [4]byte
	for i := range alphabets {
		a := &alphabets[i]
		h.Write([]byte{byte(a.kind)})
		h.Write(binary.BigEndian.AppendUint32(w[:0], a.size))
		for v := range a.size {
			h.Write(binary.BigEndian.AppendUint32(w[:0], uint32(a.at(v))))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestAlphabetsPinned: the alphabets are part of the output contract of
// imitate and imitate_unique (a character's index in its alphabet, and
// the alphabet's id, decide masked values users join on). If this fails,
// a change to alphabets.go would change masked outputs: undo it. A new
// alphabet may only be appended, and then only with an announced output
// change for the characters it newly holds.
func TestAlphabetsPinned(t *testing.T) {
	wantSizes := []uint32{
		10, 26, 26, // ASCII digits, lower, upper
		93, 98, 2, 107, 191, 6, 37, // Latin-1 and Extended-A, Extended-B and IPA, modifiers
		33, 36, 27, 31, 2, // Greek, Greek and Coptic (other)
		48, 48, 100, 100, // Cyrillic
		38, 42, 31, 43, 158, // Armenian, Hebrew, Arabic
		81, 55, 51, 53, 53, 37, 57, 57, 67, 59, // Devanagari to Sinhala
		57, 56, 74, 40, 47, 256, 326, 54, 46, // Thai to Georgian Extended
		124, 132, 96, 122, 15, 28, 14, 4, // Latin Extended Additional to Letterlike
		9, 89, 110, 94, 6592, 20992, 11172, 26, 26, 58, // CJK symbols to halfwidth Katakana
	}
	for range digitZeros {
		wantSizes = append(wantSizes, 10)
	}
	var sizes []uint32
	for _, a := range alphabets {
		sizes = append(sizes, a.size)
	}
	if !slices.Equal(sizes, wantSizes) {
		t.Errorf("alphabet sizes changed:\n got %v\nwant %v", sizes, wantSizes)
	}
	if len(digitZeros) != 67 {
		t.Errorf("%d digit sets, want 67", len(digitZeros))
	}
	const want = "a4070c2fa3a26d5f484d180f232d7568511fbdf4b13004583557dc0624532421"
	if got := alphabetsDigest(); got != want {
		t.Errorf("alphabets digest %s, want %s: the alphabets changed, and masked outputs with them", got, want)
	}
}

// TestAlphabetsWellFormed: every character of every alphabet is found
// again at its index, has the alphabet's UTF-8 length (uniqueText writes
// characters in place) and, in the Unicode tables Go ships, is a letter or
// digit of the alphabet's kind. Should a later Unicode version recategorise
// one, the alphabet stays as it is (it is the contract): list the
// character here as an exception.
func TestAlphabetsWellFormed(t *testing.T) {
	seen := map[rune]string{}
	for i := range alphabets {
		a := &alphabets[i]
		if int(a.id) != i || a.size < 2 {
			t.Fatalf("%s: id %d at %d, size %d", a.name, a.id, i, a.size)
		}
		for v := range a.size {
			r := a.at(v)
			if prev, dup := seen[r]; dup {
				t.Fatalf("%U is in %s and %s", r, prev, a.name)
			}
			seen[r] = a.name
			if got, gv, ok := alphabetOf(r); !ok || got != a || gv != v {
				t.Fatalf("%U, %s #%d: alphabetOf gives %v #%d", r, a.name, v, ok, gv)
			}
			if utf8.RuneLen(r) != a.width {
				t.Fatalf("%U in %s: %d bytes, the alphabet's are %d", r, a.name, utf8.RuneLen(r), a.width)
			}
			if k, ok := kindOf(r); !ok || k != a.kind && !(a.kind == charLower && k == charCaseless) {
				// A block's lone modifier letter joins its lower case.
				t.Errorf("%U in %s: Unicode says kind %d (letter or digit: %v), the alphabet %d", r, a.name, k, ok, a.kind)
			}
		}
	}
	// Nothing else is in an alphabet: probe the planes alphabets touch.
	for r := rune(0); r < 0x20000; r++ {
		if _, _, ok := alphabetOf(r); ok != (seen[r] != "") {
			t.Fatalf("alphabetOf(%U) = %v, but no alphabet lists it", r, ok)
		}
	}
}

// TestAlphabetsCoverNames: the letters and digits of names and numbers in
// the scripts the docs list are all in an alphabet of the expected kind.
func TestAlphabetsCoverNames(t *testing.T) {
	for _, s := range []string{
		"Zoë Ångström-Łukasz", "ÇÄÑÄŔŸ", "İsmail Şahin Ğ", "Ștefan Țurcanu", "Nguyễn Văn Đức", "Ɛkua Ɔfori", "Hawaiʻi", "Nº 5",
		"Иван Петров", "Ґалина Їжак", "Γιώργος Παπαδόπουλος", "Արամ", "დავით",
		"محمد عبد الله", "پژوهش گروه", "דוד כהן", "राहुल शर्मा", "সৌরভ", "தமிழ்", "สมชาย ใจดี", "ສົມ",
		"王小明", "佐々木 さくら カタカナー ｶﾀｶﾅ", "김민준 ㅋㅋ", "ＡＢＣｄｅｆ", "ℓ Ω K",
		"٠١٢٣٤٥٦٧٨٩", "۰۱۲۳", "०१२३", "০১২৩", "๐๑๒๓", "０１２３", "𝟎𝟏𝟐",
	} {
		for _, r := range s {
			_, letter := kindOf(r)
			if !letter {
				continue
			}
			if _, _, ok := alphabetOf(r); !ok {
				t.Errorf("%q: %U (%s) is in no alphabet", s, r, describeChar(r))
			}
		}
	}
	// Scripts without an alphabet are named, for imitate_unique's error.
	for r, want := range map[rune]string{
		'Ꮳ': "an upper-case letter of the Unicode script Cherokee",
		'ⵣ': "a letter of the Unicode script Tifinagh",
		'𝐀': "an upper-case letter of the Unicode script Common",
		'ꓐ': "a letter of the Unicode script Lisu",
	} {
		if _, _, ok := alphabetOf(r); ok {
			t.Errorf("%U is in an alphabet", r)
		}
		if got := describeChar(r); got != want {
			t.Errorf("describeChar(%U) = %q, want %q", r, got, want)
		}
	}
}

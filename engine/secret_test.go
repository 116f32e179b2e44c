package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestNewSecretRefusesMistakes: a secret with blanks around it, nothing
// but blanks, or a pasted shell line is refused with an error that says
// what to remove and never quotes the secret; '=' and quotes stay allowed.
func TestNewSecretRefusesMistakes(t *testing.T) {
	const s = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"
	for _, tt := range []struct {
		name, in string
		want     error
	}{
		{"trailing space", s + " ", ErrSecretSpace},
		{"trailing space before the newline", s + " \n", ErrSecretSpace},
		{"trailing tab", s + "\t\r\n", ErrSecretSpace},
		{"leading space", " " + s, ErrSecretSpace},
		{"leading tab", "\t" + s, ErrSecretSpace},
		{"leading newline", "\n" + s, ErrSecretSpace},
		{"no-break space", s + "\u00a0", ErrSecretSpace},
		{"byte order mark", "\ufeff" + s + "\r\n", ErrSecretInvisible},
		{"zero-width space at the end", s + "\u200b", ErrSecretInvisible},
		{"only spaces", strings.Repeat(" ", 20), ErrSecretBlank},
		{"only tabs and a newline", "\t\t\t\n", ErrSecretBlank},
		{"export line", "export MASKSTREAM_RUN_SECRET=" + s, ErrSecretExport},
		{"export line, tab", "export\tMASKSTREAM_RUN_SECRET=" + s + "\n", ErrSecretExport},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSecret(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), s) || strings.Contains(err.Error(), "Zm9v") {
				t.Errorf("the error quotes the secret: %v", err)
			}
		})
	}
	for _, ok := range []string{
		s + "==",                         // base64 padding
		`"` + s + `"`,                    // quotes are part of it
		"exported-" + s,                  // a word that only starts like export
		"a secret with spaces inside it", // inner blanks are its own
		s + "\r\n",
		"a\u200bsecret-with-an-inner-zero-width-space", // inside, it is its own
	} {
		if _, err := NewSecret(ok); err != nil {
			t.Errorf("NewSecret refused a good secret: %v", err)
		}
	}
}

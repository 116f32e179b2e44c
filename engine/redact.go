package engine

// redact_secrets: a member whose name looks like a credential gets the
// string "[REDACTED]" whatever its value, at any depth, unless a rule
// selects that very member (an explicit rule, say a hash of api_key to keep
// it joinable, wins over the blanket redaction). The same test covers
// record headers (Masker.maskHeaders) and the documents a json mask
// reaches into. The test runs on every member name of every record, so it
// walks a trie of the credential words spelled backwards from the name's
// last byte: most names fail on their first or second byte.
//
// A name matches when, lowercased and with '_', '-' and '.' removed, it is
// one of the words below or ends with one, optionally followed by digits:
// "password", "db_password", "X-Api-Key", "refresh_token", "set-cookie",
// "password2", "api_key_1" and "token-01" match. A numbered credential is
// still a credential, but only digits number it: "tokens", "tokens_used",
// "token_count", "passwordless", "secretary", "author", "key", "passport"
// and "api_key_v2" do not match. Names that only start with a word
// ("token_type", "password_hint") are not credentials and stay.

// Redacted is what redact_secrets writes in place of a credential.
const Redacted = "[REDACTED]"

var redactedJSON = []byte(`"` + Redacted + `"`)

// secretWords are the normalized credential names.
var secretWords = []string{
	"password", "passwd", "pwd", "passphrase",
	"secret", "clientsecret",
	"token",
	"apikey", "privatekey", "accesskey", "secretkey", "signingkey", "encryptionkey",
	"authorization", "proxyauthorization",
	"cookie", "cookies",
	"credential", "credentials",
	"sessionid", "jwt", "bearer", "otp",
}

type rnode struct {
	next [26]*rnode // 'a'..'z'
	end  bool
}

var secretTrie = func() *rnode {
	root := &rnode{}
	for _, w := range secretWords {
		n := root
		for i := len(w) - 1; i >= 0; i-- {
			c := w[i] - 'a'
			if n.next[c] == nil {
				n.next[c] = &rnode{}
			}
			n = n.next[c]
		}
		n.end = true
	}
	return root
}()

// numbering marks the bytes of the number that may follow a credential's
// name (password2, api_key_1, token-01): digits and the separators.
var numbering = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['-'], t['.'] = true, true, true
	return t
}()

// isSecretKey reports whether a member name (its raw bytes; an escaped
// name is tested on its decoded text) looks like a credential.
func isSecretKey(k []byte) bool {
	i := len(k) - 1
	for i >= 0 && numbering[k[i]] {
		i--
	}
	n := secretTrie
	for ; i >= 0; i-- {
		c := k[i]
		switch {
		case c == '_' || c == '-' || c == '.':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c < 'a' || c > 'z':
			return false
		}
		n = n.next[c-'a']
		if n == nil {
			return false
		}
		if n.end {
			return true
		}
	}
	return false
}

package engine

// redact_secrets: a member whose name looks like a credential gets the
// string "[REDACTED]" whatever its value, at any depth, unless a rule
// selects that very member (an explicit rule, say a hash of api_key to keep
// it joinable, wins over the blanket redaction). The test runs on every member name of every record, so it walks a trie
// of the credential words spelled backwards from the name's last byte:
// most names fail on their first or second byte.
//
// A name matches when, lowercased and with '_', '-' and '.' removed, it is
// one of the words below or ends with one: "password", "db_password",
// "X-Api-Key", "refresh_token", "set-cookie" match; "tokens_used",
// "token_count", "secretary", "author", "key" and "passport" do not. Names
// that only start with a word ("token_type", "password_hint") are not
// credentials and stay.

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

// isSecretKey reports whether a member name (its raw bytes; an escaped name
// is tested on its decoded text) looks like a credential.
func isSecretKey(k []byte) bool {
	n := secretTrie
	for i := len(k) - 1; i >= 0; i-- {
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

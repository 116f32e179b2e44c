package httpapi

import "net/http"

// loginPatterns are DataMasque's login endpoint, with and without its
// trailing slash. DataMasque's dm CLI always logs in there with a username
// and password and has no way to send a token, so it cannot work with
// maskstream (DESIGN §7 has bearer tokens only). Answering here, in
// DataMasque's error shape, tells its user why instead of a plain-text
// 404. Fixed patterns keep the route label bounded.
var loginPatterns = [...]string{"POST /api/auth/jwt/login/{$}", "POST /api/auth/jwt/login"}

// loginMessage says what to use instead of a login.
const loginMessage = "maskstream has no username/password login: it takes bearer tokens (http.tokens in its config). " +
	"DataMasque's Python SDK works when given the token through token_source " +
	"(DataMasqueIfmInstanceConfig(admin_server_base_url=\"https://HOST:PORT\", ifm_base_url=\"https://HOST:PORT/ifm\", username=\"maskstream\", token_source=lambda: TOKEN)); " +
	"the dm CLI logs in with a password only, so it cannot be used with maskstream. See docs/http-api.md, DataMasque clients."

// login answers DataMasque's login with 501 and what to do instead. It
// never reads the body: it holds a password.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	// DataMasque's {"detail": ...} shape, which carries no code.
	s.writeError(w, apiIFM, http.StatusNotImplemented, "", loginMessage)
}

package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

type entry = rulesets.Entry[*engine.Masker]

// v1Summary is a ruleset in GET /v1/rulesets.
type v1Summary struct {
	Name     string           `json:"name"`
	Serial   int64            `json:"serial"`
	Source   rulesets.Source  `json:"source"`
	Created  time.Time        `json:"created_time"`
	Modified time.Time        `json:"modified_time"`
	Options  rulesets.Options `json:"options"`
	URL      string           `json:"url"`
}

// v1Detail is GET /v1/rulesets/{name}.
type v1Detail struct {
	v1Summary
	RulesetYAML string         `json:"ruleset_yaml"`
	Logs        []rulesets.Log `json:"logs"`
}

func (s *Server) v1URL(r *http.Request, name string) string {
	return s.baseURL(r) + "/v1/mask/" + url.PathEscape(name)
}

func (s *Server) v1Summary(r *http.Request, e *entry) v1Summary {
	return v1Summary{
		Name: e.Name, Serial: e.Serial, Source: e.Source,
		Created: e.Created, Modified: e.Modified, Options: e.Options,
		URL: s.v1URL(r, e.Name),
	}
}

// v1List serves GET /v1/rulesets: every ruleset, files and uploads.
func (s *Server) v1List(w http.ResponseWriter, r *http.Request) {
	list := s.store.List()
	out := make([]v1Summary, len(list))
	for i, e := range list {
		out[i] = s.v1Summary(r, e)
	}
	s.writeValue(w, apiV1, http.StatusOK, struct {
		Rulesets []v1Summary `json:"rulesets"`
	}{out})
}

// v1Get serves GET /v1/rulesets/{name}.
func (s *Server) v1Get(w http.ResponseWriter, r *http.Request) {
	e, ok := s.store.Get(r.PathValue("name"))
	if !ok {
		s.notFound(w, apiV1, r.PathValue("name"))
		return
	}
	logs := e.Logs
	if logs == nil {
		logs = []rulesets.Log{}
	}
	s.writeValue(w, apiV1, http.StatusOK, v1Detail{s.v1Summary(r, e), string(e.Ruleset.Source), logs})
}

// v1Put serves PUT /v1/rulesets/{name}: the body is the ruleset YAML.
func (s *Server) v1Put(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := readBody(r, s.cfg.MaxRulesetBytes, nil)
	if err != nil {
		s.writeBodyError(w, apiV1, uploadError(err, s.cfg.MaxRulesetBytes))
		return
	}
	if len(body) == 0 {
		s.writeError(w, apiV1, http.StatusBadRequest, codeBadRequest, "the body is empty; send the ruleset YAML")
		return
	}
	if s.refuseReadOnly(w, apiV1, name) {
		return
	}
	_, existed := s.store.Get(name)
	e, err := s.store.Update(name, rulesets.Update{Source: body})
	if err != nil {
		s.storeError(w, apiV1, name, err)
		return
	}
	status := http.StatusOK
	if !existed {
		status = http.StatusCreated
	}
	s.writeValue(w, apiV1, status, struct {
		Name   string `json:"name"`
		Serial int64  `json:"serial"`
		URL    string `json:"url"`
	}{e.Name, e.Serial, s.v1URL(r, e.Name)})
}

// v1Delete serves DELETE /v1/rulesets/{name}.
func (s *Server) v1Delete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.store.Delete(name); err != nil {
		s.storeError(w, apiV1, name, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// refuseReadOnly answers 409 read_only when name is a file of the
// rulesets dir. Handlers call it before the store validates the ruleset:
// no body can change such a ruleset, so the caller should hear that rather
// than the problems of a YAML that would be refused anyway. The store
// checks again under its lock.
func (s *Server) refuseReadOnly(w http.ResponseWriter, a api, name string) bool {
	if e, ok := s.store.Get(name); ok && e.Source == rulesets.SourceFile {
		s.storeError(w, a, name, rulesets.ErrReadOnly)
		return true
	}
	return false
}

func (s *Server) notFound(w http.ResponseWriter, a api, name string) {
	s.writeError(w, a, http.StatusNotFound, codeNotFound, "no ruleset plan named "+strconv.Quote(name))
}

// storeError answers an error of the ruleset store.
func (s *Server) storeError(w http.ResponseWriter, a api, name string, err error) {
	var el rulesets.ErrorList
	var re *rulesets.Error
	switch {
	case errors.Is(err, rulesets.ErrNotFound):
		s.notFound(w, a, name)
	case errors.Is(err, rulesets.ErrReadOnly):
		s.writeError(w, a, http.StatusConflict, codeReadOnly, "ruleset "+strconv.Quote(name)+" comes from a file in the rulesets dir and is read-only over the API; edit the file (it reloads by itself a second or two after it is written), or upload under another name")
	case errors.Is(err, rulesets.ErrExists):
		s.writeError(w, a, http.StatusConflict, codeConflict, "a ruleset plan named "+strconv.Quote(name)+" already exists; replace it with PUT or pick another name")
	case errors.Is(err, rulesets.ErrBadName):
		s.writeError(w, a, http.StatusBadRequest, codeBadName, "a ruleset name is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit")
	case errors.As(err, &el), errors.As(err, &re):
		s.writeRulesetErrors(w, a, err)
	case errors.Is(err, rulesets.ErrOptions):
		s.writeFieldError(w, a, err.Error())
	default:
		s.log.Error("ruleset store failed", "error", err.Error())
		s.writeError(w, a, http.StatusInternalServerError, codeInternal, "the ruleset could not be stored; see the server log")
	}
}

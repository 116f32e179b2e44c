package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

// List pagination of GET /ifm/ruleset-plans/.
const (
	defaultPlanLimit = 100
	maxPlanLimit     = 1000
)

// ifmPlanSummary is a plan in DataMasque's list: no ruleset text, which a
// mask-only token may not read.
type ifmPlanSummary struct {
	Name     string           `json:"name"`
	Serial   int64            `json:"serial"`
	Created  time.Time        `json:"created_time"`
	Modified time.Time        `json:"modified_time"`
	Options  rulesets.Options `json:"options"`
	URL      string           `json:"url"`
}

// ifmPlan is DataMasque's plan object.
type ifmPlan struct {
	ifmPlanSummary
	RulesetYAML string         `json:"ruleset_yaml"`
	Logs        []rulesets.Log `json:"logs"`
}

func (s *Server) ifmSummary(r *http.Request, e *entry) ifmPlanSummary {
	return ifmPlanSummary{
		Name: e.Name, Serial: e.Serial, Created: e.Created, Modified: e.Modified,
		Options: e.Options, URL: s.baseURL(r) + "/ifm/ruleset-plans/" + url.PathEscape(e.Name) + "/",
	}
}

func (s *Server) ifmPlan(r *http.Request, e *entry) ifmPlan {
	logs := e.Logs
	if logs == nil {
		logs = []rulesets.Log{}
	}
	return ifmPlan{s.ifmSummary(r, e), string(e.Ruleset.Source), logs}
}

// ifmList serves GET /ifm/ruleset-plans/?limit=&offset=.
func (s *Server) ifmList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := queryInt(q, "limit", defaultPlanLimit, 1, maxPlanLimit)
	if !ok {
		s.writeFieldError(w, apiIFM, "limit must be a whole number from 1 to "+strconv.Itoa(maxPlanLimit))
		return
	}
	offset, ok := queryInt(q, "offset", 0, 0, 1<<31-1)
	if !ok {
		s.writeFieldError(w, apiIFM, "offset must be a whole number, 0 or more")
		return
	}
	list := s.store.List()
	items := []ifmPlanSummary{}
	for i := offset; i < len(list) && i < offset+limit; i++ {
		items = append(items, s.ifmSummary(r, list[i]))
	}
	s.writeValue(w, apiIFM, http.StatusOK, struct {
		Items  []ifmPlanSummary `json:"items"`
		Total  int              `json:"total"`
		Limit  int              `json:"limit"`
		Offset int              `json:"offset"`
	}{items, len(list), limit, offset})
}

func queryInt(q url.Values, key string, def, lo, hi int) (int, bool) {
	v := q.Get(key)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// ifmGet serves GET /ifm/ruleset-plans/{name}/.
func (s *Server) ifmGet(w http.ResponseWriter, r *http.Request) {
	e, ok := s.store.Get(r.PathValue("name"))
	if !ok {
		s.notFound(w, apiIFM, r.PathValue("name"))
		return
	}
	s.writeValue(w, apiIFM, http.StatusOK, s.ifmPlan(r, e))
}

// ifmCreate serves POST /ifm/ruleset-plans/ with {"name", "ruleset_yaml",
// "options"?}: 201 with the plan. A taken name is a 409 (DataMasque
// appends a random suffix instead; clients read the returned name either
// way).
func (s *Server) ifmCreate(w http.ResponseWriter, r *http.Request) {
	pb, err := s.readPlanBody(r, true)
	if err != nil {
		s.writeBodyError(w, apiIFM, err)
		return
	}
	if !pb.hasName {
		s.writeFieldError(w, apiIFM, "field name is required")
		return
	}
	if !pb.hasYAML {
		s.writeFieldError(w, apiIFM, "field ruleset_yaml is required")
		return
	}
	opts := pb.opts.apply(rulesets.DefaultOptions())
	e, err := s.store.Update(pb.name, rulesets.Update{Source: pb.yaml, Options: &opts, Mode: rulesets.CreateOnly})
	if err != nil {
		s.storeError(w, apiIFM, pb.name, err)
		return
	}
	w.Header().Set("Location", s.ifmSummary(r, e).URL)
	s.writeValue(w, apiIFM, http.StatusCreated, s.ifmPlan(r, e))
}

// ifmUpdate serves PUT (ruleset_yaml required, options reset to what is
// given) and PATCH (either field; options merged) on
// /ifm/ruleset-plans/{name}/.
func (s *Server) ifmUpdate(patch bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		pb, err := s.readPlanBody(r, false)
		if err != nil {
			s.writeBodyError(w, apiIFM, err)
			return
		}
		if !patch && !pb.hasYAML {
			s.writeFieldError(w, apiIFM, "field ruleset_yaml is required; PATCH changes options alone")
			return
		}
		cur, ok := s.store.Get(name)
		if !ok {
			s.notFound(w, apiIFM, name)
			return
		}
		if s.refuseReadOnly(w, apiIFM, name) {
			return
		}
		if patch && !pb.hasYAML && pb.opts == nil {
			s.writeValue(w, apiIFM, http.StatusOK, s.ifmPlan(r, cur))
			return
		}
		u := rulesets.Update{Mode: rulesets.ReplaceOnly}
		if pb.hasYAML {
			u.Source = pb.yaml
		}
		if patch {
			if pb.opts != nil {
				o := pb.opts.apply(cur.Options)
				u.Options = &o
			}
		} else {
			o := pb.opts.apply(rulesets.DefaultOptions())
			u.Options = &o
		}
		e, err := s.store.Update(name, u)
		if err != nil {
			s.storeError(w, apiIFM, name, err)
			return
		}
		s.writeValue(w, apiIFM, http.StatusOK, s.ifmPlan(r, e))
	})
}

// ifmDelete serves DELETE /ifm/ruleset-plans/{name}/: 204.
func (s *Server) ifmDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.store.Delete(name); err != nil {
		s.storeError(w, apiIFM, name, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// planBody is a decoded plan request body.
type planBody struct {
	name    string
	hasName bool
	yaml    []byte
	hasYAML bool
	opts    *optionsPatch
}

// optionsPatch holds the options fields a request gave.
type optionsPatch struct {
	enabled                     *bool
	logLevel, encoding, charset *string
}

// apply returns base with the given fields replaced (nil p: base).
func (p *optionsPatch) apply(base rulesets.Options) rulesets.Options {
	if p == nil {
		return base
	}
	if p.enabled != nil {
		base.Enabled = *p.enabled
	}
	if p.logLevel != nil {
		base.DefaultLogLevel = *p.logLevel
	}
	if p.encoding != nil {
		base.DefaultEncoding = *p.encoding
	}
	if p.charset != nil {
		base.DefaultCharset = *p.charset
	}
	return base
}

// readPlanBody reads a plan request body strictly: unknown fields and
// wrong types are 422s, malformed JSON a 400 with its offset.
func (s *Server) readPlanBody(r *http.Request, withName bool) (planBody, error) {
	var pb planBody
	// ruleset_yaml arrives JSON-escaped, which may double its size.
	body, err := readBody(r, 2*s.cfg.MaxRulesetBytes+64<<10, nil)
	if err != nil {
		return pb, uploadError(err, s.cfg.MaxRulesetBytes)
	}
	sc := scanner{buf: body, maxDepth: 16}
	ms, err := sc.object(nil)
	if err != nil {
		return pb, err
	}
	for i := range ms {
		m := &ms[i]
		v := body[m.val.start:m.val.end]
		if string(v) == "null" {
			continue
		}
		switch {
		case m.key == "name" && withName:
			str, ok := stringValue(v)
			if !ok {
				return pb, &fieldError{m.val.start, "field name must be a string, not " + kindOf(v)}
			}
			pb.name, pb.hasName = str, true
		case m.key == "ruleset_yaml":
			str, ok := stringValue(v)
			if !ok {
				return pb, &fieldError{m.val.start, "field ruleset_yaml must be a string, not " + kindOf(v)}
			}
			if int64(len(str)) > s.cfg.MaxRulesetBytes {
				return pb, &rulesetTooLargeError{s.cfg.MaxRulesetBytes}
			}
			pb.yaml, pb.hasYAML = []byte(str), true
		case m.key == "options":
			if pb.opts, err = decodeOptions(body, m); err != nil {
				return pb, err
			}
		default:
			fields := "ruleset_yaml and options"
			if withName {
				fields = "name, ruleset_yaml and options"
			}
			return pb, &fieldError{m.keyOff, "unknown field " + strconv.Quote(m.key) + "; the fields are " + fields}
		}
	}
	return pb, nil
}

func decodeOptions(body []byte, m *member) (*optionsPatch, error) {
	v := body[m.val.start:m.val.end]
	if v[0] != '{' {
		return nil, &fieldError{m.val.start, "field options must be an object, not " + kindOf(v)}
	}
	sc := scanner{buf: body[:m.val.end], pos: m.val.start, maxDepth: 16}
	ms, err := sc.object(nil)
	if err != nil {
		return nil, err
	}
	p := &optionsPatch{}
	for i := range ms {
		om := &ms[i]
		ov := body[om.val.start:om.val.end]
		if string(ov) == "null" {
			continue
		}
		if om.key == "enabled" {
			b, ok := boolValue(ov)
			if !ok {
				return nil, &fieldError{om.val.start, "field options.enabled must be a boolean, not " + kindOf(ov)}
			}
			p.enabled = &b
			continue
		}
		var dst **string
		switch om.key {
		case "default_log_level":
			dst = &p.logLevel
		case "default_encoding":
			dst = &p.encoding
		case "default_charset":
			dst = &p.charset
		default:
			return nil, &fieldError{om.keyOff, "unknown field options." + om.key + "; the options are enabled, default_log_level, default_encoding and default_charset"}
		}
		str, ok := stringValue(ov)
		if !ok {
			return nil, &fieldError{om.val.start, "field options." + om.key + " must be a string, not " + kindOf(ov)}
		}
		*dst = &str
	}
	return p, nil
}

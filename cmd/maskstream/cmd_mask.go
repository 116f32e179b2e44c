package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

func init() {
	register(&command{
		name:    "mask",
		summary: "mask NDJSON files or stdin with a ruleset",
		order:   20,
		run:     runMask,
	})
}

const maskUsage = `usage: maskstream mask -r RULESET [flags] [FILE ...]

Masks newline-delimited JSON: one record per line, read from each FILE in
turn (or standard input when none is given; "-" names it too), written
masked to standard output in the same order. Blank lines are skipped, and so
is a UTF-8 byte order mark at the start of an input (editors on Windows
write one). Reading a pipe, a fifo or a terminal, the output is flushed
whenever the input has nothing more for the moment, so masked records come
out as their lines come in.

The run secret comes from the environment variable named by -secret-env
(MASKSTREAM_RUN_SECRET unless told otherwise) or from -secret-file. The same
secret and ruleset give the same output, byte for byte, on every run.

A line that cannot be masked (not JSON, invalid UTF-8, too deep or too
large, a mask error) is not written to standard output. Instead a JSON line
{"line", "file", "reason", "error"} goes to standard error, or, with
-dead-letter FILE, to that file with the original line as "record" (a JSON
string), or as "record_base64" (standard base64 of its bytes) when the line
is not valid UTF-8, so that its bytes survive. The dead-letter file is yours:
keep it as safe as the input. Standard error never gets a record's content.
The file is created, or emptied, when the first record fails: a run with
none leaves an existing file as it was (the exit status says whether there
were any). It may not be an input, the output, the ruleset or the secret
file: that would destroy them.

A rule whose path matched no field in any record (a typo, another case, an
array without [*]) masks nothing, and the field would pass through as it
is: at the end of the run, a line on standard error names each such rule.
Check a new ruleset on sample records and read those lines.

Ctrl-C (SIGINT) or SIGTERM stops the run after the record being masked, or
at once while it waits for input: the records masked until then are written
out, the rest of the input is left unmasked. A second signal kills the
process on the spot (should writing out hang).

Exit status:
  0    every record was masked
  1    some records went to the dead letters, or an input failed while
       being read
  2    usage or configuration error, found before anything is masked: bad
       flags, a ruleset with errors, no run secret, an input file that is
       missing, unreadable or a folder
  130  stopped by Ctrl-C (143 by SIGTERM: 128 + the signal's number)

Flags:
`

type maskFlags struct {
	ruleset    string
	secretEnv  string
	secretFile string
	deadLetter string
	maxDepth   int
	maxBytes   int
}

func runMask(ctx context.Context, env *cliEnv, args []string) int {
	fs := newCmdFlags(env, "mask", maskUsage, true)
	var f maskFlags
	fs.StringVar(&f.ruleset, "r", "", "the ruleset `file` to mask with (required)")
	fs.StringVar(&f.secretEnv, "secret-env", "MASKSTREAM_RUN_SECRET", "read the run secret from this environment `variable`")
	fs.StringVar(&f.secretFile, "secret-file", "", "read the run secret from this `file` instead")
	fs.StringVar(&f.deadLetter, "dead-letter", "", "write records that cannot be masked to this `file` (JSON lines with the original record)")
	fs.IntVar(&f.maxDepth, "max-depth", engine.DefaultMaxDepth, "deepest nesting of objects and arrays a record may have")
	fs.IntVar(&f.maxBytes, "max-bytes", engine.DefaultMaxBytes, "longest record accepted, in bytes")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(env.stderr, "maskstream mask: "+format+"\n", a...)
		return 2
	}
	if f.ruleset == "" {
		fmt.Fprint(env.stderr, "maskstream mask: give the ruleset with -r FILE\n\n")
		fs.printUsage(env.stderr)
		return 2
	}
	if f.maxDepth <= 0 || f.maxBytes <= 0 {
		return usageErr("-max-depth and -max-bytes must be positive")
	}
	sec, err := maskSecret(env, f)
	if err != nil {
		return usageErr("%v", err)
	}
	rs, err := rulesets.ParseFile(f.ruleset)
	if err != nil {
		return usageErr("%v", err)
	}
	m, err := engine.Compile(rs, engine.Options{MaxDepth: f.maxDepth, MaxBytes: f.maxBytes})
	if err != nil {
		return usageErr("%s has errors:\n%v", f.ruleset, err)
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	for _, in := range inputs {
		if err := checkInput(in); err != nil {
			return usageErr("%v", err)
		}
	}

	var dl *lazyFile
	if f.deadLetter != "" {
		if err := checkDeadLetter(env, f, inputs); err != nil {
			return usageErr("%v", err)
		}
		dl = &lazyFile{name: f.deadLetter}
	}

	stats := newRuleStats(rs, m)
	mk := &ndjsonMasker{env: env, m: m, sec: sec, maxBytes: f.maxBytes, start: time.Now(), opts: &engine.CallOptions{Found: stats.found}}
	mk.out = bufio.NewWriterSize(env.stdout, 256<<10)
	if dl != nil {
		mk.dead = bufio.NewWriter(dl)
		mk.withRecord = true
	} else {
		mk.dead = bufio.NewWriter(env.stderr)
	}

	code := 0
	for _, in := range inputs {
		if ctx.Err() != nil {
			break
		}
		if err := mk.file(ctx, in); err != nil {
			fmt.Fprintf(env.stderr, "maskstream mask: %v\n", err)
			code = 1
		}
	}
	mk.endProgress()
	if err := mk.out.Flush(); err != nil {
		fmt.Fprintf(env.stderr, "maskstream mask: writing the output: %v\n", err)
		return 1
	}
	if err := mk.dead.Flush(); err != nil {
		fmt.Fprintf(env.stderr, "maskstream mask: writing the dead letters: %v\n", err)
		return 1
	}
	if err := dl.Close(); err != nil {
		fmt.Fprintf(env.stderr, "maskstream mask: writing the dead letters: %v\n", err)
		return 1
	}
	if ctx.Err() != nil {
		fmt.Fprintf(env.stderr, "maskstream mask: interrupted: %d records masked and written out, %d could not be masked\n", mk.done, mk.failed)
		return interruptedCode(ctx)
	}
	stats.report(env.stderr, mk.done)
	if mk.failed > 0 {
		where := "above"
		if f.deadLetter != "" {
			where = "in " + f.deadLetter
		}
		fmt.Fprintf(env.stderr, "maskstream mask: %d of %d records could not be masked (see %s)\n", mk.failed, mk.done+mk.failed, where)
		code = 1
	}
	return code
}

// checkInput reports an input file that the run would fail on, so that
// a mistyped name stops the command before anything is written.
func checkInput(name string) error {
	if name == "-" {
		return nil
	}
	st, err := os.Stat(name)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a folder; give NDJSON files", name)
	case !st.Mode().IsRegular():
		// Opening a fifo waits for its writer: file() does it.
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	return f.Close()
}

// maskSecret reads the run secret from -secret-file or the environment.
func maskSecret(env *cliEnv, f maskFlags) (*engine.Secret, error) {
	sec, _, err := loadSecret(env, f.secretEnv, f.secretFile, "-secret-file", true)
	if err == nil && sec == nil {
		return nil, fmt.Errorf("no run secret: set %s to a random string of 16 to 256 characters (for example: export %s=$(openssl rand -hex 32)), or give -secret-file FILE; keep it: the same secret gives the same masked values", f.secretEnv, f.secretEnv)
	}
	if errors.Is(err, engine.ErrSecretLength) {
		// The engine's message names the daemon's settings.
		from := f.secretEnv
		if f.secretFile != "" {
			from = "-secret-file " + f.secretFile
		}
		return nil, fmt.Errorf("the run secret in %s must be 16 to 256 characters; put a longer random string there (for example: openssl rand -hex 32)", from)
	}
	return sec, err
}

// cliMessages turns the engine's advice, written for the daemon's config,
// into the flags of this command.
var cliMessages = strings.NewReplacer(
	"limits.max_record_bytes", "-max-bytes",
	"limits.max_depth", "-max-depth",
)

// ndjsonMasker masks NDJSON streams into one output.
type ndjsonMasker struct {
	env        *cliEnv
	m          *engine.Masker
	sec        *engine.Secret
	maxBytes   int
	out        *bufio.Writer
	dead       *bufio.Writer
	withRecord bool
	// opts gathers how many values each rule's paths reached.
	opts *engine.CallOptions

	buf          []byte
	done, failed int
	start        time.Time
	lastProgress time.Time
	progressed   bool
}

// deadLetter is one line of the dead-letter output.
type deadLetter struct {
	Line   int             `json:"line"`
	File   string          `json:"file"`
	Reason string          `json:"reason"`
	Error  string          `json:"error"`
	Record json.RawMessage `json:"record,omitempty"`
	// RecordBase64 holds a line that is not valid UTF-8: as a JSON
	// string its bad bytes would become U+FFFD, and the record be lost.
	RecordBase64 string `json:"record_base64,omitempty"`
}

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func (k *ndjsonMasker) file(ctx context.Context, name string) error {
	r, err := k.open(ctx, name)
	if err != nil {
		return err
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		// A Ctrl-C ends the run after this record, not after a batch:
		// the check is one atomic load.
		if ctx.Err() != nil {
			return nil
		}
		rec, tooLong, err := k.readLine(br)
		if err != nil && err != io.EOF {
			// A line cut short by the error is not masked: its
			// beginning alone could pass for a record (a number).
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading %s at line %d: %w", name, line, err)
		}
		if line == 1 && bytes.HasPrefix(rec, utf8BOM) {
			if rec = rec[len(utf8BOM):]; isBlank(rec) {
				rec = nil
			}
		}
		if len(rec) > 0 || tooLong {
			k.record(name, line, rec, tooLong)
		}
		if err == io.EOF {
			return nil
		}
	}
}

// open opens an input. A regular file is read directly. Anything else (a
// pipe, a fifo, a terminal) can block for ever, so it is read through an
// interruptibleReader that ends at once with ctx, and what was masked is
// flushed before each wait.
func (k *ndjsonMasker) open(ctx context.Context, name string) (io.ReadCloser, error) {
	var open func() (io.ReadCloser, error)
	if name == "-" {
		if f, ok := k.env.stdin.(*os.File); ok && isRegular(f) {
			return io.NopCloser(f), nil
		}
		open = func() (io.ReadCloser, error) { return io.NopCloser(k.env.stdin), nil }
	} else {
		if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
			return os.Open(name)
		}
		open = func() (io.ReadCloser, error) { return os.Open(name) }
	}
	return newInterruptibleReader(ctx, open, k.flush), nil
}

// flush writes out what was masked so far, before the input makes the
// run wait. The writers keep their errors for the final Flush.
func (k *ndjsonMasker) flush() {
	k.out.Flush()
	k.dead.Flush()
}

// readLine reads one line without its end. A line longer than maxBytes is
// consumed and reported as tooLong, its bytes not kept.
func (k *ndjsonMasker) readLine(br *bufio.Reader) (rec []byte, tooLong bool, err error) {
	k.buf = k.buf[:0]
	for {
		chunk, e := br.ReadSlice('\n')
		if !tooLong {
			if len(k.buf)+len(chunk) > k.maxBytes+2 { // +2: the line's \r\n
				tooLong = true
				k.buf = k.buf[:0]
			} else {
				k.buf = append(k.buf, chunk...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		rec = k.buf
		for len(rec) > 0 && (rec[len(rec)-1] == '\n' || rec[len(rec)-1] == '\r') {
			rec = rec[:len(rec)-1]
		}
		if isBlank(rec) {
			rec = nil
		}
		return rec, tooLong, e
	}
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func (k *ndjsonMasker) record(file string, line int, rec []byte, tooLong bool) {
	var err error
	if tooLong {
		err = &engine.MaskError{Reason: engine.ReasonTooLarge, Msg: fmt.Sprintf("the line is longer than -max-bytes %d", k.maxBytes)}
	} else {
		// Masking straight into the writer's free space saves a copy
		// (bufio's AvailableBuffer idiom).
		var b []byte
		b, err = k.m.MaskValue(k.out.AvailableBuffer(), k.sec, rec, k.opts)
		if err == nil {
			k.out.Write(b)
			k.out.WriteByte('\n')
			k.done++
			k.progress()
			return
		}
	}
	k.failed++
	d := deadLetter{Line: line, File: file, Reason: string(engine.ReasonOf(err)), Error: cliMessages.Replace(err.Error())}
	if k.withRecord && !tooLong {
		if utf8.Valid(rec) {
			d.Record, _ = json.Marshal(string(rec))
		} else {
			d.RecordBase64 = base64.StdEncoding.EncodeToString(rec)
		}
	}
	b, _ := json.Marshal(d)
	k.dead.Write(b)
	k.dead.WriteByte('\n')
	if !k.withRecord {
		k.dead.Flush()
	}
}

// progressAfter and progressEvery pace the progress line. Tests set them
// to 0 to see it without waiting.
var (
	progressAfter = time.Second
	progressEvery = 200 * time.Millisecond
)

// progress shows records done and the rate on a terminal, at most five
// times a second, once the run has lasted a second (small inputs stay
// quiet).
func (k *ndjsonMasker) progress() {
	if !k.env.stderrIsTerminal || k.done%256 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(k.start) < progressAfter || now.Sub(k.lastProgress) < progressEvery {
		return
	}
	k.lastProgress = now
	k.progressed = true
	rate := float64(k.done) / now.Sub(k.start).Seconds()
	fmt.Fprintf(k.env.stderr, "\rmaskstream mask: %d records, %.0f/s, %d failed   ", k.done, rate, k.failed)
}

func (k *ndjsonMasker) endProgress() {
	if k.progressed {
		fmt.Fprintln(k.env.stderr)
	}
}

// ruleStats counts the values each rule's paths reach over the run, to
// name the rules that reach none: a path with a typo ($.emial), another
// case ($.Phone) or an array without [*] validates and masks nothing, and
// the field it meant passes through unmasked with nothing said.
type ruleStats struct {
	found []uint32 // engine.CallOptions.Found, summed over the run
	rules []rulesets.LeafRule
}

func newRuleStats(rs *rulesets.Ruleset, m *engine.Masker) *ruleStats {
	s := &ruleStats{found: make([]uint32, m.NumRules()), rules: rs.LeafRules()}
	names := m.RuleNames()
	same := len(s.rules) == len(names)
	for i := 0; same && i < len(names); i++ {
		same = s.rules[i].Name == names[i]
	}
	if !same {
		// The engine flattens rules as LeafRules does; should that ever
		// change, the report still names the rules, without paths.
		s.rules = s.rules[:0]
		for _, n := range names {
			s.rules = append(s.rules, rulesets.LeafRule{Index: n, Name: n})
		}
	}
	return s
}

// report writes one line per rule that reached no value in records
// masked records (none when there were none to judge by).
func (s *ruleStats) report(w io.Writer, records int) {
	if records == 0 || len(s.found) != len(s.rules) {
		return
	}
	for i, n := range s.found {
		if n > 0 {
			continue
		}
		r := s.rules[i]
		where := ""
		if r.Pos.File != "" && r.Pos.Line > 0 {
			where = fmt.Sprintf("%s:%d:%d: ", r.Pos.File, r.Pos.Line, r.Pos.Col)
		}
		unit := "records"
		if records == 1 {
			unit = "record"
		}
		cond := ""
		if r.Conditional {
			cond = " (or its if: never held)"
		}
		fmt.Fprintf(w, "maskstream mask: %s%s matched no field in %s %s%s; check its path against a sample record\n", where, r.Describe(), groupThousands(records), unit, cond)
	}
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	d := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

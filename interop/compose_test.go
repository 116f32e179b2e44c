//go:build interop

package interop

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/config"
)

// No Docker engine exists on these machines, so docker-compose.yml and the
// Dockerfile are checked statically: everything they name must exist, and
// maskstream's config in compose must validate with the binary.

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string      `yaml:"image"`
	Build       any         `yaml:"build"`
	Command     any         `yaml:"command"`
	Entrypoint  any         `yaml:"entrypoint"`
	Environment any         `yaml:"environment"`
	Volumes     []yaml.Node `yaml:"volumes"`
	DependsOn   any         `yaml:"depends_on"`
	Ports       []string    `yaml:"ports"`
	// StopGracePeriod is how long Docker waits after SIGTERM before
	// SIGKILL (10s when unset).
	StopGracePeriod string `yaml:"stop_grace_period"`
}

// mount is one volume of a service: a bind mount (Bind, Source relative to
// the compose file) or a named volume.
type mount struct {
	Source, Target string
	Bind           bool
}

func loadCompose(t *testing.T, root string) composeFile {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(src, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yml has no services")
	}
	return c
}

func (s composeService) mounts(t *testing.T, name string) []mount {
	t.Helper()
	var out []mount
	for _, n := range s.Volumes {
		var m mount
		switch n.Kind {
		case yaml.ScalarNode:
			parts := strings.Split(n.Value, ":")
			if len(parts) < 2 {
				t.Errorf("service %s: volume %q has no container path", name, n.Value)
				continue
			}
			m.Source, m.Target = parts[0], parts[1]
			m.Bind = strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~")
		case yaml.MappingNode:
			var long struct{ Type, Source, Target string }
			if err := n.Decode(&long); err != nil {
				t.Errorf("service %s: volume at line %d: %v", name, n.Line, err)
				continue
			}
			m = mount{Source: long.Source, Target: long.Target, Bind: long.Type == "bind"}
		default:
			t.Errorf("service %s: volume at line %d is neither a string nor a mapping", name, n.Line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// strs flattens a compose string-or-list field.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case map[string]any:
		var out []string
		for k := range v {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return nil
}

// envValues are the values of a compose environment (a map, or a list of
// NAME=value).
func envValues(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for _, val := range v {
			out = append(out, fmt.Sprint(val))
		}
	case []any:
		for _, e := range v {
			if _, val, ok := strings.Cut(fmt.Sprint(e), "="); ok {
				out = append(out, val)
			}
		}
	}
	return out
}

// hostPath maps a container path to the repo path a bind mount gives it.
func hostPath(root string, mounts []mount, p string) (string, bool) {
	for _, m := range mounts {
		if !m.Bind {
			continue
		}
		if p == m.Target {
			return filepath.Join(root, m.Source), true
		}
		if rest, ok := strings.CutPrefix(p, strings.TrimSuffix(m.Target, "/")+"/"); ok {
			return filepath.Join(root, m.Source, rest), true
		}
	}
	return "", false
}

var containerPath = regexp.MustCompile(`/[A-Za-z0-9_.][A-Za-z0-9_./-]*`)

func TestComposeStatic(t *testing.T) {
	root := repoRoot(t)
	c := loadCompose(t, root)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range c.Services {
			if !yield(n) {
				return
			}
		}
	})
	for _, name := range names {
		s := c.Services[name]
		t.Run(name, func(t *testing.T) {
			if s.Image == "" && s.Build == nil {
				t.Error("neither image nor build")
			}
			mounts := s.mounts(t, name)
			for _, m := range mounts {
				switch {
				case m.Bind && filepath.IsAbs(m.Source), m.Bind && strings.HasPrefix(m.Source, "~"):
					t.Errorf("bind mount %s is outside the repository: compose must work from any checkout", m.Source)
				case m.Bind:
					if _, err := os.Stat(filepath.Join(root, m.Source)); err != nil {
						t.Errorf("bind mount %s → %s: %v", m.Source, m.Target, err)
					}
				default:
					if _, ok := c.Volumes[m.Source]; !ok {
						t.Errorf("named volume %q is not declared under the top-level volumes", m.Source)
					}
				}
			}
			// Files a command or a variable names inside a bind mount
			// must exist in the repo (the producers' sample data,
			// maskstream's config, Grafana's home dashboard).
			for _, arg := range slices.Concat(strs(s.Entrypoint), strs(s.Command), envValues(s.Environment)) {
				for _, p := range containerPath.FindAllString(arg, -1) {
					if hp, ok := hostPath(root, mounts, p); ok {
						if _, err := os.Stat(hp); err != nil {
							t.Errorf("the service names %s, mounted from %s: %v", p, hp, err)
						}
					}
				}
			}
			for _, dep := range strs(s.DependsOn) {
				if _, ok := c.Services[dep]; !ok {
					t.Errorf("depends_on names %q, which is not a service", dep)
				}
			}
			for _, p := range s.Ports {
				if !regexp.MustCompile(`^(?:[0-9.]+:)?[0-9]+:[0-9]+(?:/(?:tcp|udp))?$`).MatchString(p) {
					t.Errorf("port mapping %q is not host:container", p)
				}
			}
			if s.Build != nil {
				ctxDir, file := ".", "Dockerfile"
				switch b := s.Build.(type) {
				case string:
					ctxDir = b
				case map[string]any:
					if v, ok := b["context"].(string); ok {
						ctxDir = v
					}
					if v, ok := b["dockerfile"].(string); ok {
						file = v
					}
				}
				checkDockerfile(t, filepath.Join(root, ctxDir, file))
			}
		})
	}

	// Prometheus scrapes services by name; maskstream on the port its
	// config listens on.
	prom, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pc struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(prom, &pc); err != nil {
		t.Fatal(err)
	}
	msCfg, _ := maskstreamComposeConfig(t, root, c)
	_, listenPort, _ := net.SplitHostPort(msCfg.HTTP.Listen)
	scraped := false
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				if err != nil {
					t.Errorf("scrape target %q is not host:port", target)
					continue
				}
				if _, ok := c.Services[host]; !ok {
					t.Errorf("job %s scrapes %q, which is not a compose service", sc.JobName, host)
				}
				if host == "maskstream" {
					scraped = true
					if port != listenPort {
						t.Errorf("Prometheus scrapes maskstream on port %s, but deploy/maskstream.yaml listens on %s", port, msCfg.HTTP.Listen)
					}
				}
			}
		}
	}
	if !scraped {
		t.Error("prometheus.yml does not scrape the maskstream service")
	}
}

// checkDockerfile wants a multi-stage build whose final stage is
// distroless or scratch and runs as a non-root user.
func checkDockerfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("the build's Dockerfile: %v", err)
		return
	}
	defer f.Close()
	type stage struct {
		image, name      string
		user             string
		entry            bool
		copyFrom         []string
		line, userLine   int
		sawUser, sawFrom bool
	}
	var stages []*stage
	sc := bufio.NewScanner(f)
	var logical string
	lineNo, start := 0, 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if logical == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if logical == "" {
			start = lineNo
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			logical += cont + " "
			continue
		}
		logical += line
		fields := strings.Fields(logical)
		logical = ""
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			args := slices.DeleteFunc(fields[1:], func(s string) bool { return strings.HasPrefix(s, "--") })
			st := &stage{line: start}
			if len(args) > 0 {
				st.image = args[0]
			}
			if len(args) == 3 && strings.EqualFold(args[1], "AS") {
				st.name = args[2]
			}
			stages = append(stages, st)
		case "USER":
			if len(stages) > 0 && len(fields) > 1 {
				stages[len(stages)-1].user, stages[len(stages)-1].userLine = fields[1], start
			}
		case "ENTRYPOINT", "CMD":
			if len(stages) > 0 {
				stages[len(stages)-1].entry = true
			}
		case "COPY":
			for _, a := range fields[1:] {
				if from, ok := strings.CutPrefix(a, "--from="); ok && len(stages) > 0 {
					stages[len(stages)-1].copyFrom = append(stages[len(stages)-1].copyFrom, from)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Errorf("%s has %d stage(s): want a multi-stage build (a Go toolchain stage, then a small runtime stage)", path, len(stages))
		return
	}
	final := stages[len(stages)-1]
	if !strings.Contains(final.image, "distroless") && final.image != "scratch" {
		t.Errorf("%s:%d: the final stage is FROM %s; want a distroless or scratch image", path, final.line, final.image)
	}
	switch u := strings.SplitN(final.user, ":", 2)[0]; u {
	case "":
		t.Errorf("%s: the final stage sets no USER: the container would run as root", path)
	case "root", "0":
		t.Errorf("%s:%d: USER %s runs as root", path, final.userLine, final.user)
	}
	if !final.entry {
		t.Errorf("%s: the final stage has no ENTRYPOINT or CMD", path)
	}
	for _, from := range final.copyFrom {
		known := false
		for i, st := range stages[:len(stages)-1] {
			if st.name == from || fmt.Sprint(i) == from {
				known = true
			}
		}
		if !known {
			t.Errorf("%s: COPY --from=%s names no earlier stage", path, from)
		}
	}
}

// maskstreamComposeConfig finds the config the compose maskstream service
// runs with (run -c PATH, PATH bind-mounted) and parses it.
func maskstreamComposeConfig(t *testing.T, root string, c composeFile) (*config.Config, []mount) {
	t.Helper()
	s, ok := c.Services["maskstream"]
	if !ok {
		t.Fatal("docker-compose.yml has no maskstream service")
	}
	mounts := s.mounts(t, "maskstream")
	args := strs(s.Command)
	i := slices.Index(args, "-c")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("the maskstream service's command %q has no -c CONFIG", args)
	}
	hp, ok := hostPath(root, mounts, args[i+1])
	if !ok {
		t.Fatalf("the maskstream service reads %s, which no bind mount provides", args[i+1])
	}
	src, err := os.ReadFile(hp)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(src, hp)
	if err != nil {
		t.Fatalf("%s does not parse: %v", hp, err)
	}
	if cfg.HTTP == nil {
		t.Fatalf("%s has no http section: compose publishes port 8080 and Prometheus scrapes it", hp)
	}
	return cfg, mounts
}

// TestComposeMaskstreamConfig validates compose's maskstream config with
// the binary, after rewriting its container paths: the rulesets dir to the
// repo folder compose mounts there, the data dir to a temporary one.
func TestComposeMaskstreamConfig(t *testing.T) {
	bin := maskstreamBin(t)
	root := repoRoot(t)
	ctx := testCtx(t, 30*time.Second)
	c := loadCompose(t, root)
	cfg, mounts := maskstreamComposeConfig(t, root, c)

	src, err := os.ReadFile(cfg.File)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	rd, _ := doc["rulesets_dir"].(string)
	hp, ok := hostPath(root, mounts, rd)
	if !ok {
		t.Fatalf("rulesets_dir %q is not inside a bind mount of the maskstream service: the container would have no rulesets", rd)
	}
	doc["rulesets_dir"] = hp
	if dd, _ := doc["data_dir"].(string); dd != "" {
		named := false
		for _, m := range mounts {
			if !m.Bind && (dd == m.Target || strings.HasPrefix(dd, m.Target+"/")) {
				named = true
			}
		}
		if !named {
			t.Errorf("data_dir %s is not on a volume: uploaded plans would be lost when the container is replaced", dd)
		}
	}
	doc["data_dir"] = t.TempDir()

	// A stop may take twice drain_timeout plus 10 s (docs/config.md);
	// Docker's SIGKILL before that turns a clean drain into redeliveries.
	drain := 30 * time.Second
	if d, _ := doc["drain_timeout"].(string); d != "" {
		if drain, err = time.ParseDuration(d); err != nil {
			t.Fatalf("drain_timeout %q: %v", d, err)
		}
	}
	grace := 10 * time.Second
	if g := c.Services["maskstream"].StopGracePeriod; g != "" {
		if grace, err = time.ParseDuration(g); err != nil {
			t.Fatalf("stop_grace_period %q: %v", g, err)
		}
	}
	if need := 2*drain + 10*time.Second; grace < need {
		t.Errorf("the maskstream service's stop_grace_period is %s; a stop with drain_timeout %s may take %s, so Docker would kill it mid-drain", grace, drain, need)
	}

	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "maskstream.yaml")
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		t.Fatal(err)
	}

	// The environment compose gives the service, with stand-in values.
	var env []string
	for _, name := range strs(c.Services["maskstream"].Environment) {
		name, _, _ = strings.Cut(name, "=")
		env = append(env, name+"=interop-stand-in-value-0123456789")
	}
	env = append(env, "MASKSTREAM_RUN_SECRET="+runSecret)
	stdout, stderr, err := runEnv(ctx, env, nil, bin, "validate-config", "-c", tmp)
	if err != nil {
		t.Fatalf("compose's maskstream config (paths rewritten) does not validate: %v", err)
	}
	// The sample config is what users copy: it must not need a warning
	// (a dead letter on core NATS, say, which would be lost).
	if out := string(stdout) + string(stderr); strings.Contains(out, "warning") {
		t.Errorf("compose's maskstream config validates with warnings:\n%s", out)
	}
}

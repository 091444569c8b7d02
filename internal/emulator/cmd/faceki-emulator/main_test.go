package main

// These tests build the real command and run it on port 0, as a user's CI
// would: flags, faults, rules files, the request log and signals.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

const (
	testID = "company-7"
	// Characters that need escaping in a query, in JSON and in HTML, so
	// that the reflecting faults are tried in every encoding.
	testSecret = `s3cr+t/ with&=%25 "q" <x>`
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faceki-emulator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "faceki-emulator")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// hide keeps the test secret out of failure messages: tests never print it.
func hide(s string) string {
	for _, v := range []string{testSecret, url.QueryEscape(testSecret), strings.ToUpper(url.QueryEscape(testSecret))} {
		s = strings.ReplaceAll(s, v, "<secret>")
	}
	return s
}

// emu is a running faceki-emulator.
type emu struct {
	t     *testing.T
	cmd   *exec.Cmd
	URL   string
	lines chan string // stderr: the request log
	seen  []string
	done  chan error
}

// command returns the command with FACEKI_CLIENT_ID/SECRET set to the test's.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "FACEKI_CLIENT_ID="+testID, "FACEKI_CLIENT_SECRET="+testSecret)
	return cmd
}

// start runs the emulator with args on a free port and reads its address
// from the first line of its output.
func start(t *testing.T, args ...string) *emu {
	t.Helper()
	cmd := command(append([]string{"-listen", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &emu{t: t, cmd: cmd, lines: make(chan string, 1000), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			e.lines <- sc.Text()
		}
		close(e.lines)
	}()
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("no first line: %v", err)
	}
	m := regexp.MustCompile(`^FACEKI emulator listening on (http://127\.0\.0\.1:[1-9][0-9]*)\n$`).FindStringSubmatch(first)
	if m == nil {
		_ = cmd.Process.Kill()
		t.Fatalf("first line = %q, want %q", first, "FACEKI emulator listening on http://127.0.0.1:PORT")
	}
	e.URL = m[1]
	go func() { _, _ = io.Copy(io.Discard, stdout); e.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = e.stop() // tests that care about the exit status call stop themselves
		for _, l := range e.seen {
			if strings.Contains(l, "?") || strings.Contains(l, "clientSecret") || strings.Contains(hide(l), "<secret>") {
				t.Errorf("the request log holds a query string or the secret: %q", hide(l))
			}
		}
	})
	return e
}

// stop ends the emulator (SIGTERM where there are signals) and returns
// its exit error; it drains the log.
func (e *emu) stop() error {
	// Signalling a process that has ended already is a harmless error.
	if runtime.GOOS == "windows" {
		_ = e.cmd.Process.Kill()
	} else {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
	}
	return e.wait()
}

// wait waits for the emulator to end and returns its exit error; it drains
// the log.
func (e *emu) wait() error {
	err := <-e.done
	e.done <- err
	for l := range e.lines {
		e.seen = append(e.seen, l)
	}
	return err
}

// waitLog reads the request log up to a line containing want.
func (e *emu) waitLog(want string) {
	e.t.Helper()
	deadline := time.After(time.Minute) // a stuck emulator, not a slow one
	for {
		select {
		case l, ok := <-e.lines:
			if !ok {
				e.t.Fatalf("the emulator ended without logging %q; log:\n%s", want, hide(strings.Join(e.seen, "\n")))
			}
			e.seen = append(e.seen, l)
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			e.t.Fatalf("no log line %q within a minute; log:\n%s", want, hide(strings.Join(e.seen, "\n")))
		}
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, hide(string(a.body)))
	}
	return m
}

func creds() url.Values { return url.Values{"clientId": {testID}, "clientSecret": {testSecret}} }

// tokenRequest asks for a token with the test's credentials.
func (e *emu) tokenRequest(c *http.Client) (answer, error) {
	if c == nil {
		c = &http.Client{}
	}
	resp, err := c.Get(e.URL + "/auth/api/access-token?" + creds().Encode())
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, body}, err
}

func (e *emu) mustToken(t *testing.T) answer {
	t.Helper()
	a, err := e.tokenRequest(nil)
	if err != nil {
		t.Fatal(hide(err.Error()))
	}
	return a
}

// wantToken asks for a token and fails unless one is issued; it returns it.
func (e *emu) wantToken(t *testing.T) string {
	t.Helper()
	a := e.mustToken(t)
	d, _ := a.json(t)["data"].(map[string]any)
	tok, _ := d["access_token"].(string)
	if a.status != http.StatusOK || strings.Count(tok, ".") != 2 {
		t.Fatalf("want a token: HTTP %d, %d-byte body", a.status, len(a.body))
	}
	return tok
}

func (e *emu) rules(t *testing.T, token string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/kycrules/api/kycrules", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func failureBody(t *testing.T, a answer, status int) map[string]any {
	t.Helper()
	m := a.json(t)
	if a.status != status || m["status"] != false || m["statusCode"] != float64(status) {
		t.Errorf("HTTP %d %s, want %d with FACEKI's failure body", a.status, hide(string(a.body)), status)
	}
	return m
}

// faultChecks says, for every registered fault, what its answer must be.
// A fault added to the registry without a check here fails the test.
var faultChecks = map[string]func(t *testing.T, e *emu){
	"503": func(t *testing.T, e *emu) { failureBody(t, e.mustToken(t), 503) },
	"429": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		failureBody(t, a, 429)
		if got := a.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
	},
	"html-500": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		if a.status != 500 || a.header.Get("Content-Type") != "text/html" || !strings.HasPrefix(string(a.body), "<html>") {
			t.Errorf("HTTP %d %q %q, want 500 with an HTML page", a.status, a.header.Get("Content-Type"), a.body)
		}
	},
	"401": func(t *testing.T, e *emu) { failureBody(t, e.mustToken(t), 401) },
	"200-with-401-body": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		m := a.json(t)
		if a.status != 200 || m["statusCode"] != 401.0 || m["status"] != false {
			t.Errorf("HTTP %d %s, want 200 with a 401 failure body", a.status, a.body)
		}
	},
	"responsecode-1000": func(t *testing.T, e *emu) {
		if a := e.mustToken(t); a.status != 200 || a.json(t)["responseCode"] != 1000.0 {
			t.Errorf("HTTP %d %s, want 200 with responseCode 1000", a.status, a.body)
		}
	},
	"truncated-json": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		if a.status != 200 || json.Valid(a.body) || !strings.HasPrefix(string(a.body), `{"responseCode":0,"data":{"access_tok`) {
			t.Errorf("HTTP %d %q, want 200 with JSON cut short", a.status, a.body)
		}
	},
	"empty-body": func(t *testing.T, e *emu) {
		if a := e.mustToken(t); a.status != 200 || len(a.body) != 0 {
			t.Errorf("HTTP %d with %d bytes, want 200 and nothing", a.status, len(a.body))
		}
	},
	"missing-token": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		m := a.json(t)
		d, _ := m["data"].(map[string]any)
		if _, has := d["access_token"]; a.status != 200 || m["responseCode"] != 0.0 || has || d["expires_in"] != 3600.0 {
			t.Errorf("HTTP %d %s, want 200, responseCode 0 and no access_token", a.status, a.body)
		}
	},
	"wrong-types": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		m := a.json(t)
		if _, isList := m["data"].([]any); a.status != 200 || m["responseCode"] != "zero" || !isList {
			t.Errorf("HTTP %d %s, want 200 with a string responseCode and a list", a.status, a.body)
		}
	},
	"64MiB-body": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		if a.status != 200 || len(a.body) != 64<<20 || strings.Trim(string(a.body), " ") != "" {
			t.Errorf("HTTP %d with %d bytes, want 200 and 64 MiB of spaces", a.status, len(a.body))
		}
	},
	"hang": func(t *testing.T, e *emu) {
		// The client gives up, as the provider does at request_timeout;
		// the emulator logs that nothing was answered.
		_, err := e.tokenRequest(&http.Client{Timeout: time.Second})
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("got %v, want no answer (a client timeout)", err)
		}
		e.waitLog("GET /auth/api/access-token -> no answer (the client left)")
	},
	"drop": func(t *testing.T, e *emu) {
		a, err := e.tokenRequest(nil)
		if err == nil {
			t.Fatalf("HTTP %d, want the connection closed without an answer", a.status)
		}
		e.waitLog("GET /auth/api/access-token -> connection dropped")
	},
	"echo": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		m := failureBody(t, a, 400)
		msg, _ := m["message"].(string)
		if !strings.Contains(msg, "("+testSecret+")") || a.header.Get("X-Echo") != creds().Encode() {
			t.Errorf("the echo does not quote the secret the request carried and its query: %q", hide(msg))
		}
	},
	"gateway-return-url": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		msg, _ := failureBody(t, a, 401)["message"].(string)
		_, ret, _ := strings.Cut(msg, "returnUrl=")
		back, err := url.QueryUnescape(ret)
		if err != nil || back != "/auth/api/access-token?"+creds().Encode() || !strings.Contains(ret, "%252B") {
			t.Errorf("returnUrl does not quote the request URI percent-encoded twice: %q", hide(msg))
		}
	},
	"entity-echo": func(t *testing.T, e *emu) {
		a := e.mustToken(t)
		body := string(a.body)
		if a.status != 400 || a.header.Get("Content-Type") != "text/html" || !strings.Contains(body, "&#99;&#108;") ||
			!strings.Contains(html.UnescapeString(body), "Rejected query: "+creds().Encode()+"<") {
			t.Errorf("HTTP %d: want an HTML 400 quoting the query as character references: %q", a.status, hide(html.UnescapeString(body)))
		}
	},
	"secret-hint": func(t *testing.T, e *emu) {
		msg, _ := failureBody(t, e.mustToken(t), 401)["message"].(string)
		if msg != "Invalid client secret: it starts with '"+testSecret[:12]+"'" {
			t.Errorf("message = %q, want the secret's first 12 characters", hide(msg))
		}
	},
	"upper-echo": func(t *testing.T, e *emu) {
		msg, _ := failureBody(t, e.mustToken(t), 403)["message"].(string)
		if want := strings.ToUpper("GET /auth/api/access-token?" + creds().Encode()); msg != "REQUEST BLOCKED BY WAF: "+want {
			t.Errorf("message = %q, want the request URI upper-cased", hide(msg))
		}
	},
}

// TestFaultFlag: each -fault NAME fails the next token request as named;
// the request after it gets a token again, which the rules endpoint takes.
func TestFaultFlag(t *testing.T) {
	t.Parallel()
	for _, name := range emulator.FaultNames() {
		check, ok := faultChecks[name]
		if !ok {
			t.Errorf("fault %q has no check in faultChecks: add one", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := start(t, "-fault", name)
			check(t, e)
			tok := e.wantToken(t)
			if a := e.rules(t, tok); a.status != 200 || a.json(t)["responseCode"] != 0.0 {
				t.Errorf("rules after the fault: HTTP %d %s", a.status, a.body)
			}
		})
	}
	for name := range faultChecks {
		if _, ok := emulator.LookupFault(name); !ok {
			t.Errorf("faultChecks names %q, which is not a registered fault", name)
		}
	}
}

// TestFaultFlagQueue: repeated -fault flags are used in order, one per
// token request, and the KYC rules endpoint consumes none.
func TestFaultFlagQueue(t *testing.T) {
	t.Parallel()
	e := start(t, "-fault", "503", "-fault", "429", "-fault", "503", "-fault", "missing-token")
	if a := e.rules(t, "not-a-token"); a.status != 401 {
		t.Errorf("rules with a bad token: HTTP %d", a.status)
	}
	for i, want := range []int{503, 429, 503} {
		if a := e.mustToken(t); a.status != want {
			t.Errorf("request %d: HTTP %d, want %d", i+1, a.status, want)
		}
	}
	faultChecks["missing-token"](t, e)
	e.wantToken(t)
	e.wantToken(t)
	for _, want := range []string{"-> 401", "-> 503", "-> 429", "-> 503", "-> 200", "-> 200", "-> 200"} {
		e.waitLog(want)
	}
}

func TestUnknownFault(t *testing.T) {
	t.Parallel()
	out, err := command("-listen", "127.0.0.1:0", "-fault", "504").CombinedOutput()
	if exitCode(err) != 2 || !strings.Contains(string(out), `unknown fault "504"; known faults: 503, 429, html-500,`) ||
		strings.Contains(string(out), "listening") {
		t.Errorf("exit %d, output:\n%s\nwant exit 2 naming the known faults", exitCode(err), out)
	}
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestHelp: every flag and every fault name is in -help, which exits 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	out, err := command("-help").CombinedOutput()
	if err != nil {
		t.Fatalf("-help: %v\n%s", err, out)
	}
	for _, want := range []string{"-listen address", "-fault NAME", "-rules FILE", "-expires-in duration", "-latency duration",
		"FACEKI_CLIENT_ID", "FACEKI_CLIENT_SECRET", "SIGTERM", "port 0",
		"-client ID=FAULT[,FAULT…]", "NAME*N ", "NAME* ", "-client flaky=503", "SIGHUP",
		"\nFaults (-fault NAME):\n"} { // tools/emulator-install-check.sh reads that header
		if !strings.Contains(string(out), want) {
			t.Errorf("-help does not mention %q", want)
		}
	}
	for _, f := range emulator.FaultRegistry() {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(f.Name) + ` +` + regexp.QuoteMeta(f.Help) + `$`).Match(out) {
			t.Errorf("-help does not list fault %q with its help", f.Name)
		}
	}
}

// TestCredentialsFromEnvironment: the emulator accepts FACEKI_CLIENT_ID and
// FACEKI_CLIENT_SECRET, whatever they are, and nothing else.
func TestCredentialsFromEnvironment(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.wantToken(t)
	resp, err := http.Get(e.URL + "/auth/api/access-token?" + url.Values{"clientId": {testID}, "clientSecret": {"other"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("another secret: HTTP %d, want 401", resp.StatusCode)
	}
}

// TestExpiresIn: -expires-in sets the expires_in answered.
func TestExpiresIn(t *testing.T) {
	t.Parallel()
	e := start(t, "-expires-in", "7m")
	d, _ := e.mustToken(t).json(t)["data"].(map[string]any)
	if d["expires_in"] != 420.0 {
		t.Errorf("expires_in = %v, want 420", d["expires_in"])
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRulesFile: -rules FILE answers the KYC rules endpoint with the
// file's data, fields of any name included, and consumes no fault.
func TestRulesFile(t *testing.T) {
	t.Parallel()
	const doc = `{
  "responseCode": 0,
  "data": {
    "companyId": "acme",
    "status": "INACTIVE",
    "allowedKycDocuments": ["Driving License"],
    "validAge": 21,
    "success": {"redirect_url": "https://acme.example/ok", "message": "ok"},
    "futureField": {"nested": [1, 2]}
  }
}`
	e := start(t, "-rules", writeFile(t, doc), "-fault", "503")
	if a := e.rules(t, "not-a-token"); a.status != 401 {
		t.Errorf("rules without a valid token: HTTP %d, want 401", a.status)
	}
	if a := e.mustToken(t); a.status != 503 {
		t.Errorf("the fault was not kept for the token request: HTTP %d", a.status)
	}
	a := e.rules(t, e.wantToken(t))
	var got, want any
	_ = json.Unmarshal([]byte(doc), &want)
	if err := json.Unmarshal(a.body, &got); err != nil || a.status != 200 || !reflect.DeepEqual(got, want) {
		t.Errorf("HTTP %d %s\nwant the file's document", a.status, a.body)
	}
}

func TestRulesNone(t *testing.T) {
	t.Parallel()
	e := start(t, "-rules", "none")
	a := e.rules(t, e.wantToken(t))
	if m := a.json(t); a.status != 200 || m["responseCode"] != 7001.0 {
		t.Errorf("HTTP %d %s, want responseCode 7001", a.status, a.body)
	}
}

// TestRulesDefault: without -rules, the built-in rules.
func TestRulesDefault(t *testing.T) {
	t.Parallel()
	e := start(t)
	a := e.rules(t, e.wantToken(t))
	d, _ := a.json(t)["data"].(map[string]any)
	if a.status != 200 || d["status"] != "ACTIVE" || d["companyId"] != testID || d["livenessCheckType"] != "MODERATE" {
		t.Errorf("HTTP %d %s, want the built-in rules of %s", a.status, a.body, testID)
	}
}

// TestBadRulesFile: a rules file that is missing or not in FACEKI's shape
// stops the emulator before it listens, saying what is wrong.
func TestBadRulesFile(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, content, want string }{
		{"missing", "", "no such file or directory"},
		{"not JSON", "{\n  \"responseCode\": 0,\n  \"data\": {\"status\": ACTIVE}\n}", "not a JSON object: line 3: invalid character 'A'"},
		{"a list", `[{"responseCode":0}]`, "not a JSON object"},
		{"two documents", `{"responseCode":0,"data":{}} {}`, "more than one JSON value"},
		{"no responseCode", `{"data":{"status":"ACTIVE"}}`, `"responseCode" must be 0`},
		{"responseCode 7001", `{"responseCode":7001,"data":{}}`, `"responseCode" must be 0 (for FACEKI's 7001 NO_RULES_FOR_COMPANY use -rules none)`},
		{"no data", `{"responseCode":0}`, `"data" must be a JSON object`},
		{"data a list", `{"responseCode":0,"data":[]}`, `"data" must be a JSON object`},
		{"the rules alone", `{"status":"ACTIVE","validAge":18}`, `"responseCode" must be 0`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "absent.json")
			if tc.content != "" {
				path = writeFile(t, tc.content)
			}
			cmd := command("-listen", "127.0.0.1:0", "-rules", path)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			want := "faceki-emulator: -rules " + path + ": "
			if exitCode(err) != 2 || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), want) || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 2 and %q…%q", exitCode(err), stdout.String(), stderr.String(), want, tc.want)
			}
		})
	}
}

// TestSignals: SIGTERM and SIGINT end the emulator with exit code 0 and a
// last log line, even with a request held by the hang fault.
func TestSignals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM or SIGINT to send on Windows")
	}
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			e := start(t, "-fault", "hang")
			e.rules(t, "x")
			e.waitLog("GET /kycrules/api/kycrules -> 401")
			// A request the hang fault holds, to show that it does not keep
			// the emulator alive; whether it reached the emulator before the
			// signal does not matter to the test.
			go func() { _, _ = e.tokenRequest(nil) }()
			if err := e.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			// wait, not stop: a SIGTERM sent right after sig may be the one
			// the emulator reads first.
			if err := e.wait(); err != nil {
				t.Fatalf("exit after %s: %v, want 0", sig, err)
			}
			last := e.seen[len(e.seen)-1]
			if !regexp.MustCompile(`stopped by ` + sig.String() + ` after [01] token requests and 1 KYC rules requests$`).MatchString(last) {
				t.Errorf("last log line = %q", last)
			}
		})
	}
}

// TestListenBusy: an address in use is an error, not a silent exit.
func TestListenBusy(t *testing.T) {
	t.Parallel()
	e := start(t)
	out, err := command("-listen", strings.TrimPrefix(e.URL, "http://")).CombinedOutput()
	if exitCode(err) != 1 || (runtime.GOOS != "windows" && !strings.Contains(string(out), "address already in use")) {
		t.Errorf("exit %d: %s", exitCode(err), out)
	}
}

// TestGuideListsEveryFault: the testing guide's table of faults names every
// registered fault, so that a fault added later is documented there too.
func TestGuideListsEveryFault(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "templates", "guides", "testing-modules.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range emulator.FaultNames() {
		if !strings.Contains(string(b), "\n| `"+name+"` | ") {
			t.Errorf("templates/guides/testing-modules.md.tmpl does not list fault %q in its table", name)
		}
	}
}

// TestDefaultCredentials: with neither flags nor environment naming them,
// the command accepts demoClientID and demoClientSecret, and the KYC rules
// name the client.
func TestDefaultCredentials(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "-listen", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FACEKI_CLIENT_ID=") && !strings.HasPrefix(kv, "FACEKI_CLIENT_SECRET=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	first, _ := bufio.NewReader(stdout).ReadString('\n')
	base := strings.TrimSpace(strings.TrimPrefix(first, "FACEKI emulator listening on "))
	resp, err := http.Get(base + "/auth/api/access-token?" + url.Values{"clientId": {demoClientID}, "clientSecret": {demoClientSecret}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || tok.Data.AccessToken == "" {
		t.Fatalf("the default credentials: HTTP %d (%v), want a token", resp.StatusCode, err)
	}
	e := &emu{t: t, URL: base}
	d, _ := e.rules(t, tok.Data.AccessToken).json(t)["data"].(map[string]any)
	if d["companyId"] != demoClientID {
		t.Errorf("companyId = %v, want %q", d["companyId"], demoClientID)
	}
}

// tokenFor asks for a token as client id, with the emulator's secret.
func (e *emu) tokenFor(id string) (answer, error) {
	resp, err := http.Get(e.URL + "/auth/api/access-token?" + url.Values{"clientId": {id}, "clientSecret": {testSecret}}.Encode())
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, body}, err
}

// TestClientScenarios: each -client gets its own sequence of faults, in
// order, while other clients, asking at the same time, are served normally
// or take the -fault queue; a scenario's client is accepted with the
// emulator's secret, its tokens name it, and the log names client and step.
func TestClientScenarios(t *testing.T) {
	t.Parallel()
	e := start(t, "-client", "flaky=503*2,429", "-client", "down=503*", "-client", "spare=", "-fault", "html-500")
	want := map[string][]int{
		"flaky": {200, 200, 200, 429, 503, 503}, // sorted: arrival order decides which request gets which
		"down":  {503, 503, 503, 503},
		"spare": {200, 200, 200},
		testID:  {200, 200, 500}, // the -fault queue: one html-500, for the clients without a scenario
	}
	type result struct {
		id     string
		status int
		token  string
	}
	results := make(chan result)
	n := 0
	for id, statuses := range want {
		for range statuses {
			n++
			go func() {
				a, err := e.tokenFor(id)
				if err != nil {
					t.Error(err)
					results <- result{id: id}
					return
				}
				var body struct {
					Data struct {
						AccessToken string `json:"access_token"`
					} `json:"data"`
				}
				_ = json.Unmarshal(a.body, &body)
				results <- result{id, a.status, body.Data.AccessToken}
			}()
		}
	}
	got := map[string][]int{}
	tokens := map[string]string{}
	for range n {
		r := <-results
		got[r.id] = append(got[r.id], r.status)
		if r.token != "" {
			tokens[r.id] = r.token
		}
	}
	for id := range got {
		sort.Sort(sort.Reverse(sort.IntSlice(got[id])))
		sort.Sort(sort.Reverse(sort.IntSlice(want[id])))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("statuses per client (concurrent requests):\n got %v\nwant %v", got, want)
	}
	// Once its scenario is over, a client is served normally; "down" never is.
	for id, status := range map[string]int{"flaky": 200, "down": 503, testID: 200} {
		if a, err := e.tokenFor(id); err != nil || a.status != status {
			t.Errorf("client %s after the others: HTTP %d (%v), want %d", id, a.status, err, status)
		}
	}
	// The rules answer for the client the token was issued to.
	for _, id := range []string{"flaky", "spare"} {
		d, _ := e.rules(t, tokens[id]).json(t)["data"].(map[string]any)
		if d["companyId"] != id {
			t.Errorf("rules with %s's token: companyId %v", id, d["companyId"])
		}
	}
	// A client that no -client names still needs the emulator's own ID.
	if a, err := e.tokenFor("stranger"); err != nil || a.status != 401 {
		t.Errorf("an unknown client: HTTP %d (%v), want 401", a.status, err)
	}
	resp, err := http.Get(e.URL + "/auth/api/access-token?" + url.Values{"clientId": {"spare"}, "clientSecret": {"not the secret"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a scenario's client with another secret: HTTP %d, want 401", resp.StatusCode)
	}
	for _, l := range []string{
		`-> 503 client "flaky" (flaky=503*2,429: 503 (1 of 2))`,
		`-> 503 client "flaky" (flaky=503*2,429: 503 (2 of 2))`,
		`-> 429 client "flaky" (flaky=503*2,429: 429 (1 of 1))`,
		`-> 200 client "flaky" (flaky=503*2,429: done)`,
		`-> 503 client "down" (down=503*: 503 (always))`,
		`-> 200 client "spare" (spare=: normal answer)`,
		`-> 500 client "` + testID + `" (-fault html-500)`,
		`GET /kycrules/api/kycrules -> 200 client "flaky"`,
		`-> 401 client "stranger"`,
	} {
		e.waitLogAny(l)
	}
}

// waitLogAny is waitLog for a line that may have been read already.
func (e *emu) waitLogAny(want string) {
	e.t.Helper()
	for _, l := range e.seen {
		if strings.Contains(l, want) {
			return
		}
	}
	e.waitLog(want)
}

// TestClientScenarioErrors: a -client with an unknown fault or bad syntax
// stops the emulator before it listens, saying what is wrong (exit 2).
func TestClientScenarioErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ spec, want string }{
		{"flaky=504", `client "flaky": unknown fault "504"; known faults: 503, 429,`},
		{"flaky", `"flaky" is not ID=FAULT[,FAULT…]`},
		{"=503", `"=503" is not ID=FAULT[,FAULT…]`},
		{"flaky=503,,429", `client "flaky": unknown fault ""`},
		{"flaky=503*0", `"503*0": the count after * must be a whole number from 1`},
		{"flaky=503*x", `"503*x": the count after * must be a whole number from 1`},
		{"flaky=503*,429", `503* answers every request from then on, so nothing may follow it`},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			cmd := command("-listen", "127.0.0.1:0", "-client", tc.spec)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// An emulator that takes the flag serves until stopped.
			timer := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
			err := cmd.Wait()
			timer.Stop()
			if exitCode(err) != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "flag -client: ") || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 2 and %q", exitCode(err), stdout.String(), stderr.String(), tc.want)
			}
		})
	}
	out, err := command("-listen", "127.0.0.1:0", "-client", "a=503", "-client", "a=429").CombinedOutput()
	if exitCode(err) != 2 || !strings.Contains(string(out), `client "a" is given twice`) {
		t.Errorf("the same client twice: exit %d, %s", exitCode(err), out)
	}
}

// TestSIGHUPStartsScenariosOver: after SIGHUP, every -client scenario and
// the -fault queue run again from their first step, as for a second CLI run
// against the same emulator.
func TestSIGHUPStartsScenariosOver(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP on Windows")
	}
	t.Parallel()
	e := start(t, "-client", "flaky=503", "-fault", "429")
	for round := 1; round <= 2; round++ {
		for i, want := range []struct {
			id     string
			status int
		}{{"flaky", 503}, {"flaky", 200}, {testID, 429}, {testID, 200}} {
			if a, err := e.tokenFor(want.id); err != nil || a.status != want.status {
				t.Errorf("round %d, request %d (%s): HTTP %d (%v), want %d", round, i+1, want.id, a.status, err, want.status)
			}
		}
		if round == 1 {
			if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			e.waitLog("SIGHUP: 1 -fault and 1 -client scenarios start over")
		}
	}
}

// TestRefusalsSayWhy: the request log says why the emulator refused a token
// or rules request (FACEKI's answer does not), and never quotes the secret
// tried, the emulator's secret or a token. A fault's answer is no refusal.
func TestRefusalsSayWhy(t *testing.T) {
	t.Parallel()
	e := start(t, "-client", "spare=", "-fault", "401")
	const wrongSecret = "wrong-secret-tried-9f2k"
	get := func(path string, q url.Values, bearer string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.URL+path+"?"+q.Encode(), nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(hide(err.Error()))
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	const tokenPath = "/auth/api/access-token"
	// The queued -fault 401 answers first: a fault, not a refusal.
	if got := get(tokenPath, creds(), ""); got != 401 {
		t.Fatalf("-fault 401: HTTP %d", got)
	}
	e.waitLog(`-> 401 client "` + testID + `" (-fault 401)`)
	token := e.wantToken(t)
	for _, c := range []struct {
		path   string
		q      url.Values
		bearer string
		status int
		log    string
	}{
		{tokenPath, url.Values{"clientId": {testID}, "clientSecret": {wrongSecret}}, "", 401,
			`GET /auth/api/access-token -> 401 client "` + testID + `": refused: wrong client secret: not the one the emulator started with (FACEKI_CLIENT_SECRET or -client-secret)`},
		{tokenPath, url.Values{"clientId": {"spare"}, "clientSecret": {wrongSecret}}, "", 401,
			`-> 401 client "spare" (spare=: normal answer): refused: wrong client secret`},
		{tokenPath, url.Values{"clientId": {"stranger"}, "clientSecret": {testSecret}}, "", 401,
			`-> 401 client "stranger": refused: unknown client ID: the emulator accepts "` + testID + `" (FACEKI_CLIENT_ID when it started) and the -client IDs`},
		{tokenPath, url.Values{"clientId": {testID}}, "", 422,
			`-> 422 client "` + testID + `": refused: no client secret in the request`},
		{tokenPath, url.Values{"clientSecret": {testSecret}}, "", 422,
			`GET /auth/api/access-token -> 422: refused: no client ID in the request`},
		{"/kycrules/api/kycrules", nil, "", 401,
			`GET /kycrules/api/kycrules -> 401: refused: no bearer token`},
		{"/kycrules/api/kycrules", nil, token + "x", 401,
			`GET /kycrules/api/kycrules -> 401: refused: a bearer token this emulator did not issue`},
	} {
		if got := get(c.path, c.q, c.bearer); got != c.status {
			t.Errorf("%s: HTTP %d, want %d", c.log, got, c.status)
		}
		e.waitLog(c.log)
	}
	resp, err := http.Post(e.URL+"/auth/api/generate-token", "application/json", strings.NewReader(`{"clientId":`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	e.waitLog(`POST /auth/api/generate-token -> 400: refused: the body is not JSON`)
	if get("/kycrules/api/kycrules", nil, token) != 200 {
		t.Error("the issued token was refused")
	}
	e.waitLog(`GET /kycrules/api/kycrules -> 200 client "` + testID + `"`)
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	for _, l := range e.seen {
		if strings.Contains(l, wrongSecret) || strings.Contains(l, token[strings.LastIndexByte(token, '.')+1:][:16]) {
			t.Errorf("the log quotes the secret tried or the token: %q", hide(l))
		}
		if strings.Contains(l, "-> 200") && strings.Contains(l, "refused") {
			t.Errorf("an answered request is logged as refused: %q", l)
		}
	}
}

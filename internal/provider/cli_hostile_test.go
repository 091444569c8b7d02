package provider

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
	"github.com/faceki/terraform-provider-faceki/internal/faceki"
)

// Hostile scenarios run with these bounds, as issue 3 asks.
const (
	hostileTimeout = 2 * time.Second
	hostileRetries = 3
	// cliSlack covers starting the CLI and the provider on a loaded machine.
	cliSlack = 20 * time.Second
)

// backoffBudget is the most the exponential waits can add for hostileRetries.
func backoffBudget() time.Duration {
	var d time.Duration
	for i := 0; i < hostileRetries; i++ {
		d += min(faceki.MinBackoff<<i, faceki.MaxBackoff)
	}
	return d
}

type hostileScenario struct {
	name   string
	opts   emulator.Options // the emulator's, when not the defaults
	faults []emulator.Fault
	// baseURL overrides the emulator's URL (closed port, remote http).
	baseURL     func(t *testing.T) string
	secret      string // the provider's secret when not the emulator's
	minValidity string // the token's min_validity when not "1m"
	// want must match the CLI's output; each names what only its own path
	// says, so that no other failure can satisfy it.
	want  *regexp.Regexp
	ok    bool          // ends in success
	bound time.Duration // longest acceptable run
	// requests is the number of token requests the emulator should see: a
	// single instance, so plan and apply make one each when they succeed.
	requests int
}

func TestCLI_hostile(t *testing.T) {
	cliPath(t) // skip once, not in every scenario
	attempts := hostileRetries + 1
	worst := time.Duration(attempts)*hostileTimeout + backoffBudget() + cliSlack
	fast := backoffBudget() + cliSlack
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return "http://" + addr
	}
	repeat := func(f emulator.Fault, n int) []emulator.Fault {
		out := make([]emulator.Fault, n)
		for i := range out {
			out[i] = f
		}
		return out
	}
	unavailable503 := emulator.TooManyRequests("3600")
	unavailable503.Status = http.StatusServiceUnavailable
	scenarios := []hostileScenario{
		{name: "connection refused", baseURL: closedPort, want: match("Cannot reach FACEKI", "connection refused", "(after 4 attempts)", "HTTPS_PROXY",
			"base_url is a loopback address", "if it is the FACEKI emulator, start it there first (faceki-emulator -listen 127.0.0.1:"), bound: fast, requests: 0},
		{name: "timeout", faults: repeat(emulator.Hang(time.Minute), attempts), want: match("Cannot reach FACEKI", "no answer within request_timeout (2s)"), bound: worst, requests: attempts},
		{name: "503 then success", faults: []emulator.Fault{emulator.Unavailable}, ok: true, bound: fast, requests: 3},
		{name: "429 Retry-After then success", faults: []emulator.Fault{emulator.TooManyRequests("1")}, ok: true, bound: fast + time.Second, requests: 3},
		{name: "connection dropped then success", faults: []emulator.Fault{{Name: "drop", Drop: true}}, ok: true, bound: fast, requests: 3},
		{name: "429 Retry-After beyond the cap", faults: []emulator.Fault{emulator.TooManyRequests("3600")},
			want: match("FACEKI is rate limiting requests", "HTTP 429", "(Retry-After: 3600)"), bound: cliSlack, requests: 1},
		{name: "503 Retry-After beyond the cap", faults: []emulator.Fault{unavailable503},
			want: match("FACEKI is unavailable", "HTTP 503", "(Retry-After: 3600)"), bound: cliSlack, requests: 1},
		{name: "HTML 500 every time", faults: repeat(emulator.HTML500, attempts),
			want: match("FACEKI is unavailable", "HTTP 500: response is HTML, not FACEKI's JSON", "Internal Server Error", "(after 4 attempts)"), bound: fast, requests: attempts},
		{name: "truncated JSON", faults: []emulator.Fault{emulator.TruncatedJSON}, want: match("Unexpected response from FACEKI", "HTTP 200: response is not valid JSON (truncated?)"), bound: cliSlack, requests: 1},
		{name: "empty body", faults: []emulator.Fault{emulator.EmptyBody}, want: match("Unexpected response from FACEKI", "HTTP 200: response body is empty"), bound: cliSlack, requests: 1},
		{name: "wrong-typed JSON", faults: []emulator.Fault{emulator.WrongTypes}, want: match("Unexpected response from FACEKI", "response has no responseCode"), bound: cliSlack, requests: 1},
		{name: "missing token", faults: []emulator.Fault{emulator.MissingToken}, want: match("Unexpected response from FACEKI", "no data.access_token"), bound: cliSlack, requests: 1},
		{name: "responseCode 1000", faults: []emulator.Fault{emulator.InternalError}, want: match("FACEKI reported an error", "responseCode 1000 INTERNAL_SYSTEM_ERROR"), bound: cliSlack, requests: 1},
		{name: "wrong secret 401", secret: testSecret + "x",
			want: match("FACEKI rejected the client credentials", `HTTP 401, message "Invalid client credentials"`, "Check client_id and client_secret",
				"if it is the FACEKI emulator, it accepts the client ID and secret of its own FACEKI_CLIENT_ID", "its log says why it refused"), bound: cliSlack, requests: 1},
		{name: "HTTP 200 carrying a 401 body", faults: []emulator.Fault{emulator.OK401},
			want: match("FACEKI rejected the client credentials", `HTTP 200, statusCode 401, message "Invalid client credentials"`, "Check client_id and client_secret"), bound: cliSlack, requests: 1},
		{name: "422 body", faults: []emulator.Fault{{Name: "422", Status: http.StatusUnprocessableEntity, Body: `{"status":false,"message":"client secret is required","statusCode":422,"data":{}}`}},
			want: match("FACEKI says the token request lacks a parameter", `HTTP 422, message "client secret is required"`, "are set and not empty"), bound: cliSlack, requests: 1},
		{name: "64 MiB body", faults: []emulator.Fault{emulator.Huge}, want: match("Unexpected response from FACEKI", "response too large"), bound: cliSlack, requests: 1},
		{name: "server echoes the query", faults: []emulator.Fault{emulator.Echo},
			want:  match(`HTTP 400, message "`, withheldSecret),
			bound: cliSlack, requests: 1},
		{name: "gateway quotes the request URI encoded again", faults: []emulator.Fault{emulator.GatewayReturnURL},
			want:  match("FACEKI rejected the client credentials", `HTTP 401, message "`, withheldSecret),
			bound: cliSlack, requests: 1},
		{name: "query in numeric HTML references", faults: []emulator.Fault{emulator.EntityEcho},
			want:  match("FACEKI says the token request lacks a parameter", "HTTP 400: response is HTML", withheldSecret),
			bound: cliSlack, requests: 1},
		{name: "server echoes the first characters of the secret", faults: []emulator.Fault{emulator.SecretHint},
			want:  match("FACEKI rejected the client credentials", `HTTP 401, message "`, withheldSecret),
			bound: cliSlack, requests: 1},
		{name: "WAF quotes the request upper-cased", faults: []emulator.Fault{emulator.UpperEcho},
			want:  match("FACEKI rejected the client credentials", `HTTP 403, message "`, withheldSecret),
			bound: cliSlack, requests: 1},
		{name: "JWT exp earlier than expires_in", opts: emulator.Options{JWTLifetime: 4 * time.Minute}, minValidity: "5m",
			want: match("FACEKI access token lives shorter than min_validity", `re:(3m5\ds|4m0s)\s+from\s+now`,
				"which is less than the 5m0s of validity asked for (FACEKI's answer gave it", "by the JWT's exp − iat)",
				`re:FACEKI\s+issues\s+tokens\s+for\s+(3m59s|4m0s|4m1s);`, "ask for at most that minus the time a run needs, e.g. 3m."),
			bound: cliSlack, requests: 1},
		{name: "http to a remote host", baseURL: func(*testing.T) string { return "http://sdk.faceki.com" }, want: match("Invalid base_url", "requires https://"), bound: cliSlack, requests: 0},
		{name: "redirect elsewhere", faults: []emulator.Fault{{Name: "302", Status: http.StatusFound, Header: map[string]string{"Location": "https://attacker.example/collect"}}},
			want: match("redirected to https://attacker.example/collect"), bound: cliSlack, requests: 1},
	}

	var longestFailure time.Duration
	var longestName string
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			srv := startEmulatorCLI(t, sc.opts)
			srv.Faults(sc.faults...)
			env := emulatorEnv(srv)
			if sc.baseURL != nil {
				env[EnvBaseURL] = sc.baseURL(t)
			}
			if sc.secret != "" {
				env[EnvClientSecret] = sc.secret
			}
			env[EnvRequestTimeout] = hostileTimeout.String()
			env[EnvMaxRetries] = "3"
			minValidity := "1m"
			if sc.minValidity != "" {
				minValidity = sc.minValidity
			}
			w := newWorkspace(t, tokenConfig(1, `min_validity = "`+minValidity+`"`), env)

			// The fault meets the plan, which is saved: a successful run then
			// shows the saved plan as JSON and applies it, so that the leak
			// check also reads a saved plan.
			out, took, err := w.run(sc.bound+time.Minute, "plan", "-out=tfplan")
			t.Logf("%s: %s, %d token requests", sc.name, took.Round(10*time.Millisecond), srv.TokenRequests())
			if sc.ok {
				if err != nil {
					t.Fatalf("plan failed, want success after the transient fault: %v\n%s", err, out)
				}
				show := w.showPlan()
				out += show + w.mustRun("apply", "tfplan")
			} else {
				if err == nil {
					t.Fatalf("plan succeeded, want an error matching %s\n%s", sc.want, out)
				}
				if !sc.want.MatchString(out) {
					t.Errorf("error does not match %s:\n%s", sc.want, out)
				}
				t.Logf("%s: the CLI said:\n%s", sc.name, errorLines(out))
				if took > longestFailure {
					longestFailure, longestName = took, sc.name
				}
			}
			if took > sc.bound {
				t.Errorf("took %s, bound %s", took, sc.bound)
			}
			if srv.TokenRequests() != sc.requests {
				t.Errorf("emulator saw %d token requests, want %d", srv.TokenRequests(), sc.requests)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "Plugin did not respond") {
				t.Errorf("provider crashed:\n%s", out)
			}
			secrets := append([]string{testSecret, env[EnvClientSecret]}, srv.IssuedTokens()...)
			if leaks := w.leaks(out, secrets...); len(leaks) > 0 {
				t.Errorf("leaked: %v", leaks)
			}
		})
	}
	t.Logf("%d hostile scenarios; longest failing scenario: %q, %s (request_timeout %s, max_retries %d)",
		len(scenarios), longestName, longestFailure.Round(10*time.Millisecond), hostileTimeout, hostileRetries)
}

// withheldSecret is how an error shows an answer that repeats the secret:
// withheld whole, with its length.
const withheldSecret = `re:\[withheld:\s+\d+\s+bytes\s+that\s+repeat\s+the\s+client\s+secret\]`

// match builds a pattern from phrases that must appear in this order,
// whatever the CLI's line wrapping does to their spaces; a part starting with
// "re:" is a regular expression.
func match(parts ...string) *regexp.Regexp {
	for i, p := range parts {
		if r, ok := strings.CutPrefix(p, "re:"); ok {
			parts[i] = r
			continue
		}
		parts[i] = strings.Join(strings.Fields(regexp.QuoteMeta(p)), `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

// errorLines is the CLI output from its first error on, for the log.
func errorLines(out string) string {
	if i := strings.Index(out, "Error:"); i >= 0 {
		return out[i:]
	}
	return out
}

// TestCLI_interrupt: Ctrl-C while the provider waits for FACEKI during the
// apply walk ends the run at once, not after every retry has timed out. (In
// the plan walk OpenTofu 1.12 sends no StopProvider on the first Ctrl-C, so
// an Open there runs to its bound: (max_retries+1) × request_timeout + waits.)
func TestCLI_interrupt(t *testing.T) {
	srv := startEmulatorCLI(t, emulator.Options{})
	srv.Faults(emulator.Fault{Name: "pass"}, emulator.Hang(time.Minute), emulator.Hang(time.Minute), emulator.Hang(time.Minute), emulator.Hang(time.Minute))
	env := emulatorEnv(srv)
	env[EnvRequestTimeout] = "30s"
	w := newWorkspace(t, tokenConfig(1, ""), env)
	cmd := exec.Command(w.cli, "apply", "-auto-approve", "-no-color")
	cmd.Dir, cmd.Env = w.dir, w.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The plan walk's request succeeds; wait until the apply walk's hangs.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Await(ctx, func() bool { return srv.TokenRequests() >= 2 }); err != nil {
		t.Fatalf("the apply walk's token request never came: %v\n%s", err, out.String())
	}
	start := time.Now()
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var exitErr error
	select {
	case exitErr = <-done:
	case <-time.After(25 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the CLI did not stop within 25s of SIGINT: it waited for request_timeout (30s)\n%s", out.String())
	}
	t.Logf("stopped %s after SIGINT (%v); %d token requests\n%s", time.Since(start).Round(10*time.Millisecond), exitErr, srv.TokenRequests(), out.String())
	if srv.TokenRequests() > 2 {
		t.Errorf("the provider retried after SIGINT: %d token requests", srv.TokenRequests())
	}
	if leaks := w.leaks(out.String(), testSecret); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}

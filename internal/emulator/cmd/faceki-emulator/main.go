// Command faceki-emulator serves the FACEKI emulator on loopback, for the
// demo, for trying the provider without a FACEKI account, and for testing
// modules in CI (see docs/guides/testing-modules.md). It logs one line per
// request: method, path and status, never a query string.
//
// Install it with
//
//	go install github.com/faceki/terraform-provider-faceki/internal/emulator/cmd/faceki-emulator@VERSION
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// The credentials the command accepts when neither its flags nor the
// environment name any.
const (
	demoClientID     = "demo-client-id"
	demoClientSecret = "demo-not-a-real-secret"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command; it returns the exit code: 0 after a signal, 2 for a
// bad command line or rules file, 1 when it cannot serve.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("faceki-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("listen", "127.0.0.1:8808", "`address` to listen on; port 0 picks a free one (the first line of output names it)")
	id := fs.String("client-id", "", "client id the emulator accepts (default $FACEKI_CLIENT_ID, else "+demoClientID+")")
	secret := fs.String("client-secret", "", "client secret the emulator accepts (default $FACEKI_CLIENT_SECRET, else "+
		demoClientSecret+"); prefer the environment variable: a command line is visible to every user of the machine")
	expiresIn := fs.Duration("expires-in", time.Hour, "lifetime of issued tokens")
	latency := fs.Duration("latency", 0, "delay before each token answer (a WAN round trip)")
	var faults []emulator.Fault
	fs.Func("fault", "the next token request fails as `NAME` (see below); repeat it to queue several, used in order, "+
		"after which the emulator answers normally", func(name string) error {
		f, ok := emulator.LookupFault(name)
		if !ok {
			return fmt.Errorf("unknown fault %q; known faults: %s", name, strings.Join(emulator.FaultNames(), ", "))
		}
		faults = append(faults, f)
		return nil
	})
	type client struct {
		id    string
		steps []emulator.Step
	}
	var clients []client
	fs.Func("client", "a scenario `ID=FAULT[,FAULT…]`: client ID's token requests get these faults, in order, then normal "+
		"answers (see Scenarios below); repeat it for more clients", func(spec string) error {
		id, steps, err := emulator.ParseScenario(spec)
		if err != nil {
			return err
		}
		for _, c := range clients {
			if c.id == id {
				return fmt.Errorf("client %q is given twice", id)
			}
		}
		clients = append(clients, client{id, steps})
		return nil
	})
	rules := fs.String("rules", "", "answer GET /kycrules/api/kycrules from a JSON `FILE` in FACEKI's shape "+
		`{"responseCode":0,"data":{...}}, or "none" for responseCode 7001 NO_RULES_FOR_COMPANY (default: built-in rules)`)
	// The flag package prints the error; the whole help after it would bury
	// it, so only -help prints that.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs)
			return 0
		}
		fmt.Fprintln(stderr, "Run faceki-emulator -help for the flags, faults and scenarios.")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "faceki-emulator: unexpected argument %q (flags only; see -help)\n", fs.Arg(0))
		return 2
	}
	opts := emulator.Options{
		ClientID:     firstOf(*id, os.Getenv("FACEKI_CLIENT_ID"), demoClientID),
		ClientSecret: firstOf(*secret, os.Getenv("FACEKI_CLIENT_SECRET"), demoClientSecret),
		ExpiresIn:    *expiresIn,
		Latency:      *latency,
	}
	switch *rules {
	case "":
	case "none":
		opts.NoRules = true
	default:
		data, err := readRules(*rules)
		if err != nil {
			fmt.Fprintf(stderr, "faceki-emulator: -rules %s: %v\n", *rules, err)
			return 2
		}
		opts.Rules = data
	}
	if *expiresIn <= 0 || *latency < 0 {
		fmt.Fprintln(stderr, "faceki-emulator: -expires-in must be positive and -latency not negative")
		return 2
	}

	emu := emulator.New(opts)
	// arm queues the -fault flags and sets every -client scenario: at start,
	// and again on SIGHUP, so that one emulator serves a suite run twice
	// (on two CLIs, say) with every fault in place each time.
	arm := func() {
		emu.ClearFaults()
		emu.Faults(faults...)
		for _, c := range clients {
			emu.Scenario(c.id, c.steps...)
		}
	}
	arm()
	// Log lines go to stderr, as before: stdout carries only the address line.
	logger := log.New(stderr, "", log.LstdFlags)
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		info := emu.Serve(rec, r)
		logger.Printf("%s %s -> %s%s", r.Method, r.URL.Path, rec.outcome(r), describe(info))
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "faceki-emulator: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: logged, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	stopped := make(chan os.Signal, 1)
	signal.Notify(stopped, os.Interrupt, syscall.SIGTERM)
	rearm := make(chan os.Signal, 1)
	signal.Notify(rearm, syscall.SIGHUP) // never sent on Windows
	served := make(chan error, 1)
	// The first line names the address, for scripts that asked for port 0.
	fmt.Fprintf(stdout, "FACEKI emulator listening on http://%s\n", ln.Addr())
	go func() { served <- srv.Serve(ln) }()
	for {
		select {
		case <-rearm:
			arm()
			logger.Printf("SIGHUP: %d -fault and %d -client scenarios start over", len(faults), len(clients))
			continue
		case sig := <-stopped:
			// Close, not Shutdown: a request held by the hang fault would
			// otherwise keep the emulator alive.
			_ = srv.Close()
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintf(stderr, "faceki-emulator: %v\n", err)
			}
			logger.Printf("stopped by %s after %d token requests and %d KYC rules requests", sig, emu.TokenRequests(), emu.RulesRequests())
			return 0
		case err := <-served:
			fmt.Fprintf(stderr, "faceki-emulator: %v\n", err)
			return 1
		}
	}
}

// describe is the request log's account of who asked and which fault
// answered, or why the request was refused: ` client "flaky"
// (flaky=503*2,429: 503 (1 of 2))`, ` client "ci": refused: wrong client secret…`. The client ID
// is quoted, so that one holding a newline cannot forge a log line, and cut
// short; the secret and tokens are never in info.
func describe(info emulator.RequestInfo) string {
	if info.Client == "" {
		return refused(info)
	}
	id := info.Client
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	out := fmt.Sprintf(" client %q", id)
	switch {
	case info.Scenario != "":
		out += fmt.Sprintf(" (%s: %s)", info.Scenario, firstOf(info.Fault, "normal answer"))
	case info.Fault != "":
		out += " (" + info.Fault + ")"
	}
	return out + refused(info)
}

// refused is the log's account of why the emulator refused a request (see
// emulator.RequestInfo.Refused): `: refused: wrong client secret: …`.
func refused(info emulator.RequestInfo) string {
	if info.Refused == "" {
		return ""
	}
	return ": refused: " + info.Refused
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: faceki-emulator [flags]

Serves FACEKI's token endpoints (GET /auth/api/access-token, POST
/auth/api/generate-token) and the bearer-protected GET /kycrules/api/kycrules
on a local address, in FACEKI's shapes, for tests without a FACEKI account.
It accepts the credentials in FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET, the
variables the provider reads, and logs one line per request, naming the client
and the fault that answered, or why it refused the request (never a query
string, a secret or a token).
SIGINT or SIGTERM stops it with exit code 0; SIGHUP starts every -fault queue
and -client scenario over.

Flags:
`)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Scenarios (-client ID=FAULT[,FAULT…]):
  A client ID of its own for each behaviour, so that one emulator serves a
  whole test suite: the emulator accepts ID with its secret (FACEKI_CLIENT_SECRET),
  and answers ID's token requests with the faults listed (names as for -fault,
  below), in order, one per request, then normally. Such a client takes
  nothing from the -fault queue.
    NAME       the fault answers once         -client flaky=503
    NAME*N     N requests in a row            -client slow=429*2,503
    NAME*      every request from then on     -client 'down=503*'   (last only)
    ID=        no faults: another client, served normally
  Quote a * from the shell. A provider block with client_id = "flaky" (the
  secret from the environment) picks the scenario.
`)
	fmt.Fprint(w, "\nFaults (-fault NAME):\n")
	for _, f := range emulator.FaultRegistry() {
		fmt.Fprintf(w, "  %-20s %s\n", f.Name, f.Help)
	}
}

// readRules reads a KYC rules answer in FACEKI's shape and returns its data.
func readRules(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		ResponseCode *json.Number    `json:"responseCode"`
		Data         json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", jsonError(b, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value in the file")
	}
	if doc.ResponseCode == nil || doc.ResponseCode.String() != "0" {
		return nil, errors.New(`"responseCode" must be 0 (for FACEKI's 7001 NO_RULES_FOR_COMPANY use -rules none)`)
	}
	var data map[string]any
	if err := json.Unmarshal(doc.Data, &data); err != nil || data == nil {
		return nil, errors.New(`"data" must be a JSON object: the rules, as in {"responseCode":0,"data":{"status":"ACTIVE",...}}`)
	}
	return data, nil
}

// jsonError adds the line of a syntax error to it.
func jsonError(b []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
	return fmt.Errorf("line %d: %v", line, err)
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// statusRecorder remembers what became of a request, for the log line. It
// lets the drop fault take the connection over.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	s.hijacked = true
	return hj.Hijack()
}

func (s *statusRecorder) outcome(r *http.Request) string {
	switch {
	case s.hijacked:
		return "connection dropped"
	case s.status != 0:
		return fmt.Sprint(s.status)
	case r.Context().Err() != nil:
		return "no answer (the client left)"
	default:
		return fmt.Sprint(http.StatusOK) // net/http answers 200 for a handler that wrote nothing
	}
}

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
// environment name any. Like the package's defaults, they share no run of 8
// characters (see emulator.SharedRun).
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
	rules := fs.String("rules", "", "answer GET /kycrules/api/kycrules from a JSON `FILE` in FACEKI's shape "+
		`{"responseCode":0,"data":{...}}, or "none" for responseCode 7001 NO_RULES_FOR_COMPANY (default: built-in rules)`)
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	emu.Faults(faults...)
	// Log lines go to stderr, as before: stdout carries only the address line.
	logger := log.New(stderr, "", log.LstdFlags)
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		emu.ServeHTTP(rec, r)
		logger.Printf("%s %s -> %s", r.Method, r.URL.Path, rec.outcome(r))
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "faceki-emulator: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: logged, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	stopped := make(chan os.Signal, 1)
	signal.Notify(stopped, os.Interrupt, syscall.SIGTERM)
	served := make(chan error, 1)
	// The first line names the address, for scripts that asked for port 0.
	fmt.Fprintf(stdout, "FACEKI emulator listening on http://%s\n", ln.Addr())
	go func() { served <- srv.Serve(ln) }()
	select {
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

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `Usage: faceki-emulator [flags]

Serves FACEKI's token endpoints (GET /auth/api/access-token, POST
/auth/api/generate-token) and the bearer-protected GET /kycrules/api/kycrules
on a local address, in FACEKI's shapes, for tests without a FACEKI account.
It accepts the credentials in FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET, the
variables the provider reads, and logs one line per request (never a query
string). SIGINT or SIGTERM stops it with exit code 0.

Flags:
`)
	fs.PrintDefaults()
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

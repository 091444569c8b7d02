// Command faceki-emulator serves the FACEKI emulator on loopback, for the
// demo and for trying the provider without a FACEKI account. It logs one
// line per request: method, path and status, never a query string.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:8808", "address to listen on; port 0 picks a free one")
	id := flag.String("client-id", "", "client id the emulator accepts (default $FACEKI_CLIENT_ID, else demo-client-id)")
	secret := flag.String("client-secret", "", "client secret the emulator accepts (default $FACEKI_CLIENT_SECRET, else "+
		"demo-client-secret); prefer the environment variable: a command line is visible to every user of the machine")
	expiresIn := flag.Duration("expires-in", time.Hour, "lifetime of issued tokens")
	latency := flag.Duration("latency", 0, "delay before each token answer (a WAN round trip)")
	flag.Parse()
	*id = firstOf(*id, os.Getenv("FACEKI_CLIENT_ID"), "demo-client-id")
	*secret = firstOf(*secret, os.Getenv("FACEKI_CLIENT_SECRET"), "demo-client-secret")

	emu := emulator.New(emulator.Options{ClientID: *id, ClientSecret: *secret, ExpiresIn: *expiresIn, Latency: *latency})
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		emu.ServeHTTP(rec, r)
		log.Printf("%s %s -> %d", r.Method, r.URL.Path, rec.status)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: logged, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	// The first line names the address, for scripts that asked for port 0.
	fmt.Printf("FACEKI emulator listening on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
